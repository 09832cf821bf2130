import './base.css';
import './run-view.css';
import './dialogs.css';
import './pages.css';
import './dashboard.css';
import './run-list.css';
