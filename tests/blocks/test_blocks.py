"""Prefect's ``Block`` and ``Secret`` in a process with the database (SQLite and PostgreSQL):
save/load/delete, secret fields, the encryption at rest and its key, and the examples of
Prefect's blocks and secrets pages with the outcomes those pages state."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretBytes, SecretStr
from sqlalchemy import text

from jupyter_flows import flow
from jupyter_flows.blocks.core import Block
from jupyter_flows.blocks.fields import SecretDict
from jupyter_flows.blocks.system import Secret
from jupyter_flows.core.redaction import forget_secrets
from jupyter_flows.exceptions import SecretsKeyError, UnknownBlockType
from jupyter_flows.orchestration.block_schemas import ListBlockDocumentsQuery
from jupyter_flows.orchestration.blocks import list_block_documents, read_block_document
from jupyter_flows.store.api import run_store
from jupyter_flows.store.encryption import key_file

PLAIN = "Marvin's surprise birthday party is on the 15th"


@pytest.fixture
def default_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``db_url`` as the process's default run database (what ``Block`` uses)."""
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)
    return db_url


@pytest.fixture(autouse=True)
def _forget_secrets() -> Any:
    yield
    forget_secrets()


class Cube(Block):
    """A cube, by the length of its edges."""

    edge_length_inches: float

    def get_volume(self) -> float:
        return self.edge_length_inches**3

    def get_surface_area(self) -> float:
        return 6 * self.edge_length_inches**2


class AwsCredentials(Block):
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_session_token: str | None = None
    profile_name: str | None = None
    region_name: str | None = None


class SystemConfiguration(Block):
    system_secrets: SecretDict
    system_variables: dict[str, Any]


class TestPrefectDocsExamples:
    """Prefect's docs/v3 pages: configuration/store-secrets, concepts/blocks, custom-blocks."""

    def test_store_secret_strings(self, default_db: str) -> None:
        secret = Secret(value=PLAIN)
        secret.save("surprise-party")
        printed: list[str] = []

        @flow
        def my_flow() -> None:
            secret = Secret.load("surprise-party")
            printed.append(secret.get())

        my_flow()
        assert printed == [PLAIN]
        # "To update a secret, save the new value with the overwrite parameter set to True."
        Secret(value="it is actually on the 16th").save("surprise-party", overwrite=True)
        assert Secret.load("surprise-party").get() == "it is actually on the 16th"

    def test_block_documents_and_class_methods(self, default_db: str) -> None:
        rubiks_cube = Cube(edge_length_inches=2.25)
        rubiks_cube.save("rubiks-cube")
        Cube(edge_length_inches=0.001).save("tiny")
        Cube.register_type_and_schema()  # nothing to register here: runs, does nothing
        assert Cube.load("rubiks-cube").get_volume() == 11.390625
        assert Cube.load("tiny").get_surface_area() == pytest.approx(6e-6)
        assert Cube.get_block_type_slug() == "cube"  # "under the slug 'cube'"

    def test_secret_str_is_not_exposed_when_printed(self) -> None:
        aws_credentials_block = AwsCredentials(
            aws_access_key_id="AKIAJKLJKLJKLJKLJKLJK", aws_secret_access_key="secret_access_key"
        )
        shown = str(aws_credentials_block)
        assert "aws_access_key_id='AKIAJKLJKLJKLJKLJKLJK'" in shown
        assert "aws_secret_access_key=SecretStr('**********')" in shown
        assert "secret_access_key'" not in shown and "aws_session_token=None" in shown

    def test_secret_dict_masks_values_at_all_levels(self) -> None:
        block = SystemConfiguration(
            system_secrets={"password": "p@ssw0rd", "api_token": "token_123456789",
                            "private_key": "<private key here>"},
            system_variables={"self_destruct_countdown_seconds": 60,
                              "self_destruct_countdown_stop_time": 7},
        )  # fmt: skip
        shown = str(block)
        assert "{'password': '**********', 'api_token': '**********'" in shown
        assert "p@ssw0rd" not in shown and "token_123456789" not in shown
        assert "'self_destruct_countdown_seconds': 60" in shown  # plain text

    def test_load_without_validation_to_migrate(self, default_db: str) -> None:
        class S3Bucket(Block):
            bucket_name: str

        S3Bucket(bucket_name="raw").save("my-s3-bucket")

        class S3Bucket(Block):  # type: ignore[no-redef]  # the updated class
            bucket_name: str
            bucket_folder: str

        with pytest.raises(RuntimeError, match="validate=False"):
            S3Bucket.load("my-s3-bucket")
        with pytest.warns(UserWarning, match="bucket_folder"):
            old = S3Bucket.load("my-s3-bucket", validate=False)
        old.bucket_folder = "my-default-bucket-path"
        old.save("my-s3-bucket", overwrite=True)
        assert S3Bucket.load("my-s3-bucket").bucket_folder == "my-default-bucket-path"


class TestBlockApi:
    def test_slugs_are_prefects(self) -> None:
        class MyConfig(Block):
            x: int = 1

        class Named(Block):
            _block_type_name = "AWS Credentials"

        class Slugged(Block):
            _block_type_slug = "my-config"

        assert MyConfig.get_block_type_slug() == "myconfig"  # python-slugify of the name
        assert Named.get_block_type_slug() == "aws-credentials"
        assert Slugged.get_block_type_slug() == "my-config"
        assert Secret[str].get_block_type_slug() == "secret"

    def test_existing_name_needs_overwrite_as_prefect(self, default_db: str) -> None:
        Cube(edge_length_inches=1).save("c")
        with pytest.raises(ValueError, match="already in use for this block type.*overwrite=True"):
            Cube(edge_length_inches=2).save("c")
        assert Cube.load("c").edge_length_inches == 1
        Cube(edge_length_inches=2).save("c", overwrite=True)
        assert Cube.load("c").edge_length_inches == 2

    def test_load_by_slug_on_the_base_class_and_delete(self, default_db: str) -> None:
        Secret(value={"user": "etl", "password": "p@ss-word"}).save("db")
        loaded = Block.load("secret/db")
        assert isinstance(loaded, Secret)
        assert loaded.get() == {"user": "etl", "password": "p@ss-word"}
        Block.delete("secret/db")
        with pytest.raises(ValueError, match="Unable to find block document named db"):
            Secret.load("db")
        with pytest.raises(ValueError, match="Unable to find"):
            Secret.delete("db")

    def test_bad_names_and_unknown_types(self, default_db: str) -> None:
        for name in ("Upper", "with space", "under_score", "", "x" * 256):
            with pytest.raises(ValueError, match="name"):
                Secret(value="x").save(name)
        with pytest.raises(ValueError, match="block-type-slug/document-name"):
            Block.load("no-slash")
        with pytest.raises(UnknownBlockType, match="No block class found for slug 'nothing'"):
            Block.load("nothing/here")
        with pytest.raises(ValueError, match="without a name"):
            Secret(value="x").save()

    def test_secret_fields_of_every_kind_round_trip(self, default_db: str) -> None:
        class Service(Block):
            url: str
            token: SecretStr
            cert: SecretBytes | None = None
            env: SecretDict | None = None
            nested: AwsCredentials | None = None

        assert Service.secret_fields() == ["cert", "env.*", "nested.aws_secret_access_key",
                                           "token"]  # fmt: skip
        made = Service(url="https://api", token="tok-123456", cert=b"\xff\x00pem",
                       env={"A": "aaaa1", "deep": {"B": "bbbb2"}},
                       nested=AwsCredentials(aws_secret_access_key="nested-secret"))  # fmt: skip
        made.save("svc")
        back = Service.load("svc")
        assert back.token.get_secret_value() == "tok-123456"
        assert back.cert is not None and back.cert.get_secret_value() == b"\xff\x00pem"
        assert back.env is not None
        assert back.env.get_secret_value() == {"A": "aaaa1", "deep": {"B": "bbbb2"}}
        assert back.nested is not None and back.nested.aws_secret_access_key is not None
        assert back.nested.aws_secret_access_key.get_secret_value() == "nested-secret"
        masked = read_block_document(run_store().engine, "service", "svc")
        assert masked.data == {
            "url": "https://api", "token": "********", "cert": "********",
            "env": {"A": "********", "deep": {"B": "********"}},
            "nested": {"aws_access_key_id": None, "aws_secret_access_key": "********",
                       "aws_session_token": None, "profile_name": None, "region_name": None},
        }  # fmt: skip
        listed = list_block_documents(run_store().engine, ListBlockDocumentsQuery())
        assert [d.data for d in listed.items] == [masked.data]

    @pytest.mark.parametrize("value", ["sk-1234567890", "42", 42, {"a": [1, None]}, ["x", 2]])
    def test_secret_values_come_back_as_prefects_get(self, default_db: str, value: Any) -> None:
        Secret(value=value).save("v", overwrite=True)
        expected = 42 if value == "42" else value  # JSON text comes back decoded, as Prefect
        assert Secret.load("v").get() == expected

    def test_async_spellings(self, default_db: str) -> None:
        async def main() -> Any:
            await Secret(value="async-secret").asave("a")
            loaded = await Block.aload("secret/a")
            await Secret.adelete("a")
            return loaded.get()

        assert asyncio.run(main()) == "async-secret"


class TestEncryptionAtRest:
    def test_the_database_never_holds_the_plaintext(self, default_db: str, tmp_path: Path) -> None:
        Secret(value=PLAIN).save("surprise-party")
        Cube(edge_length_inches=31337.5).save("plain-fields-too")
        with run_store().engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM block_document")).all()
        dumped = repr(rows)
        assert PLAIN not in dumped and "31337.5" not in dumped and "Marvin" not in dumped
        if default_db.startswith("sqlite"):
            run_store().engine.dispose()  # (checkpoint nothing: read the WAL file too)
            for path in tmp_path.glob("flows.sqlite*"):
                raw = path.read_bytes()
                assert PLAIN.encode() not in raw and b"Marvin" not in raw, path
        assert Secret.load("surprise-party").get() == PLAIN

    def test_the_key_file_is_made_once_private_and_outside_the_database(
        self, default_db: str, _isolated_data_dir: Path
    ) -> None:
        Secret(value="first-secret").save("one")
        path = key_file()
        assert path == _isolated_data_dir / "secrets.key"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        key = path.read_bytes()
        Secret(value="second-secret").save("two")
        assert path.read_bytes() == key
        with run_store().engine.connect() as conn:
            assert key.strip().decode() not in repr(conn.execute(text(
                "SELECT * FROM block_document")).all())  # fmt: skip

    def test_a_wrong_key_is_a_clear_error_not_garbage(
        self, default_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        Secret(value="kept-secret").save("s")
        from cryptography.fernet import Fernet

        other = tmp_path / "other.key"
        other.write_bytes(Fernet.generate_key())
        monkeypatch.setenv("JUPYTER_FLOWS_SECRETS_KEY_FILE", str(other))
        with pytest.raises(SecretsKeyError, match=f"encrypted with key .* the key file {other}"):
            Secret.load("s")
        with pytest.raises(SecretsKeyError, match="jupyter flows block rm"):
            Secret(value="x").save("another")  # one key per database
        Secret.delete("s")  # no key needed to delete
        Secret(value="fresh-secret").save("another")  # nothing left: this key from now on
        assert Secret.load("another").get() == "fresh-secret"

    def test_a_lost_or_broken_key_file_is_named(
        self, default_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        Secret(value="kept-secret").save("s")
        lost = tmp_path / "lost.key"
        monkeypatch.setenv("JUPYTER_FLOWS_SECRETS_KEY_FILE", str(lost))
        with pytest.raises(SecretsKeyError, match=f"key file {lost} does not exist") as err:
            Secret.load("s")
        assert err.value.key_file == str(lost)
        assert not lost.exists()  # reading never makes a key
        lost.write_text("not a key\n")
        with pytest.raises(SecretsKeyError, match="does not hold a key"):
            Secret.load("s")
        with pytest.raises(SecretsKeyError, match="does not exist"):
            list_block_documents(run_store().engine, ListBlockDocumentsQuery(),
                                 tmp_path / "nowhere.key")  # fmt: skip

    def test_concurrent_first_saves_agree_on_one_key(self, default_db: str) -> None:
        import threading

        errors: list[BaseException] = []

        def save(i: int) -> None:
            try:
                Secret(value=f"value-{i:04d}").save(f"s{i}")
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert [Secret.load(f"s{i}").get() for i in range(8)] == [
            f"value-{i:04d}" for i in range(8)
        ]


def test_no_cryptography_at_package_import() -> None:
    import subprocess
    import sys

    code = "import jupyter_flows, sys; print('cryptography' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ}, check=True)  # fmt: skip
    assert out.stdout.strip() == "False"
