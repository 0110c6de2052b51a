// The dashboard: a small single-page app over the REST API. Pages: the studies, one study,
// one trial; links are ordinary <a href> handled by the History API.
import { getToken, setToken, whenUnauthorized } from './api.js';
import { disposeCharts } from './charts.js';
import { h, notify } from './dom.js';
import { studiesPage } from './studies.js';
import { studyPage } from './study.js';
import { trialPage } from './trial.js';

type Dispose = () => void;
let current: Dispose | undefined;

function route(): void {
  current?.();
  disposeCharts();
  window.__sibylReady = false;
  const root = document.getElementById('app')!;
  root.replaceChildren();
  const path = decodeURIComponent(location.pathname);
  let m: RegExpMatchArray | null;
  if ((m = path.match(/^\/studies\/([^/]+)\/?$/))) current = studyPage(root, m[1]!);
  else if ((m = path.match(/^\/trials\/([^/]+)\/?$/))) current = trialPage(root, m[1]!);
  else current = studiesPage(root);
  window.scrollTo(0, 0);
}

export function navigate(path: string): void {
  if (path === location.pathname) return;
  history.pushState(null, '', path);
  route();
}

document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element | null)?.closest?.('a');
  if (!a || a.target || a.origin !== location.origin || a.hasAttribute('download')) return;
  if (!/^\/($|studies\/|trials\/)/.test(a.pathname)) return;
  e.preventDefault();
  navigate(a.pathname);
});
window.addEventListener('popstate', route);

// The token dialog: the API calls send it as "Authorization: Bearer …" once saved.
const dialog = document.getElementById('token-dialog') as HTMLDialogElement;
const tokenInput = document.getElementById('token-input') as HTMLInputElement;
const tokenButton = document.getElementById('token-button') as HTMLButtonElement;
const showToken = (reason?: string) => {
  tokenInput.value = getToken();
  document.getElementById('token-reason')!.textContent = reason ?? '';
  if (!dialog.open) dialog.showModal();
};
tokenButton.addEventListener('click', () => showToken());
let warned = false;
whenUnauthorized(() => {
  if (warned) return;
  warned = true;
  showToken('The server asks for a token.');
});
dialog.addEventListener('close', () => {
  if (dialog.returnValue === 'save') setToken(tokenInput.value.trim());
  else if (dialog.returnValue === 'clear') setToken('');
  else return;
  warned = false;
  tokenButton.textContent = getToken() ? 'Token ✓' : 'Token';
  notify(getToken() ? 'Token saved in this browser.' : 'Token cleared.');
  route();
});
document.getElementById('token-clear')!.addEventListener('click', () => dialog.close('clear'));
tokenButton.textContent = getToken() ? 'Token ✓' : 'Token';

void h;
route();
