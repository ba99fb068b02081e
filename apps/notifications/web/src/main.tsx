import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { loadPageConfig } from './api';
import { App } from './app';

const root = document.getElementById('app') ?? document.body;
loadPageConfig().then(
  (config) => render(<App config={config} />, root),
  (error: unknown) => {
    root.textContent = `choreo: could not load live-page/config.json (${String(error)})`;
  },
);
