import './base.css';
import './run-view.css';
import './dialogs.css';
import './run-list.css';
