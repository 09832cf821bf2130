"""Workers: poll a work pool, run each claimed flow run in a subprocess, report back."""
