import './base.css';
import './browser.css';
