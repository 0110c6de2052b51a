// The dashboard: a small single-page app over the REST API. Pages: the studies, one study,
// one trial; links are ordinary <a href> handled by the History API.
import { session, signIn, signOut, whenUnauthorized } from './api.js';
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

// The token dialog: the token is sent once, for the session cookie; the page never keeps it.
const dialog = document.getElementById('token-dialog') as HTMLDialogElement;
const tokenInput = document.getElementById('token-input') as HTMLInputElement;
const tokenButton = document.getElementById('token-button') as HTMLButtonElement;
const tokenReason = document.getElementById('token-reason')!;
const showToken = (reason?: string) => {
  tokenInput.value = '';
  tokenReason.textContent = reason ?? '';
  if (!dialog.open) dialog.showModal();
};
const showSession = async () => {
  try {
    const s = await session();
    tokenButton.hidden = !s.required;
    tokenButton.textContent = s.signedIn ? 'Signed in ✓' : 'Token';
  } catch {
    // the next call says more
  }
};
tokenButton.addEventListener('click', () => showToken());
let warned = false;
whenUnauthorized(() => {
  if (warned) return;
  warned = true;
  showToken('The server asks for a token.');
});
dialog.addEventListener('close', () => {
  const choice = dialog.returnValue;
  const token = tokenInput.value.trim();
  tokenInput.value = '';
  if (choice !== 'save' && choice !== 'clear') return;
  void (async () => {
    try {
      if (choice === 'save') await signIn(token);
      else await signOut();
      warned = false;
      notify(choice === 'save' ? 'Signed in: this browser keeps a session, not the token.' : 'Signed out.');
      await showSession();
      route();
    } catch (err) {
      notify(`Could not sign in: ${(err as Error).message}`, 'error');
      showToken('That token was refused.');
    }
  })();
});
document.getElementById('token-clear')!.addEventListener('click', () => dialog.close('clear'));
void showSession();

void h;
route();
