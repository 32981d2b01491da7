import './base.css';
import './browser.css';
import './data-roots.css';
