// The console's shell: sign-in, GET /v1/me, the navigation its views allow, and the hash router.
import { h, clear, field } from './dom.js';
import { loadConfig, getConfig, token, setToken, getJson, problemView } from './api.js';
import { setTimeZone, timeZone } from './format.js';
import { current } from './router.js';
import { SCREENS } from './screens/index.js';
import * as oidc from './oidc.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let me = null;

// #token=… (the `make run` link): into sessionStorage, out of the address bar and its history.
function takeTokenFromFragment() {
  const fragment = location.hash.replace(/^#/, '');
  if (!fragment.startsWith('token=') && !fragment.includes('&token=')) return false;
  const params = new URLSearchParams(fragment);
  if (params.get('token')) setToken(params.get('token'));
  const to = params.get('to') || '/'; // a screen to open signed in: #token=…&to=/people
  history.replaceState(null, '', `${location.pathname}${location.search}#${to.startsWith('/') ? to : '/'}`);
  return true;
}

function allowed(screen) {
  return !screen.views || screen.views.some((view) => me.views.includes(view));
}

function matchScreen(path) {
  for (const screen of SCREENS) {
    const found = screen.pattern.exec(path);
    if (found) return { screen, args: found.slice(1).map(decodeURIComponent) };
  }
  return null;
}

function drawNav(path) {
  const items = SCREENS.filter((screen) => screen.nav && allowed(screen)
    && !(screen.hideWith && screen.hideWith.some((view) => me.views.includes(view))));
  clear(nav, h('ul', null, items.map((screen) => {
    const active = path === screen.href || path.startsWith(`${screen.href}/`)
      || (screen.also && screen.also.some((prefix) => path.startsWith(prefix)));
    const label = typeof screen.nav === 'function' ? screen.nav({ me }) : screen.nav;
    return h('li', null, h('a', { href: `#${screen.href}`, 'aria-current': active ? 'page' : null }, label));
  })));
  nav.hidden = false;
}

function drawWho() {
  clear(who,
    h('span', { class: 'tenant' }, me.tenant_name || me.tenant_id),
    ' · ', h('span', { class: 'user' }, me.name || me.sub),
    ' · ', h('span', { class: 'zone', title: 'Times are shown in the tenant\'s time zone' }, timeZone()),
    ' ', h('button', { type: 'button', class: 'link', onclick: signOut }, 'Sign out'));
}

function firstScreen() {
  const screen = SCREENS.find((s) => s.nav && allowed(s));
  return screen ? screen.href : null;
}

function route() {
  if (!me) return;
  const { path, query } = current();
  if (path === '/' || path === '') {
    const first = firstScreen();
    if (first) {
      history.replaceState(null, '', `#${first}`);
      route();
    } else {
      draw('Nothing to show', [h('p', { 'data-state': 'denied' },
        'Your token opens none of the console\'s screens: ask an administrator for a right such as logs:sent.')]);
    }
    return;
  }
  drawNav(path);
  const found = matchScreen(path);
  if (!found) {
    draw('Not found', [h('p', { 'data-state': 'not-found' }, 'There is no screen at this address. ',
      h('a', { href: '#/' }, 'Go to the first screen'))]);
    return;
  }
  const { screen, args } = found;
  const title = typeof screen.title === 'function' ? screen.title({ me }, ...args) : screen.title;
  if (!allowed(screen)) {
    draw(title, [h('div', { class: 'denied', 'data-state': 'denied' },
      h('p', null, h('strong', null, 'You may not open this screen.')),
      h('p', null, `It needs one of these views: ${screen.views.join(', ')}; your token opens `
        + `${me.views.length ? me.views.join(', ') : 'none'}.`))]);
    return;
  }
  const ctx = { path, query, args, me, keep: {}, has: (right) => me.rights.includes('admin') || me.rights.includes(right),
    canView: (view) => me.views.includes(view) };
  let body;
  try {
    body = screen.render(ctx);
  } catch (error) {
    body = [h('div', { role: 'alert', class: 'problem' }, problemView(error))];
  }
  draw(title, body);
}

function draw(title, body) {
  const heading = h('h1', { tabindex: '-1' }, title);
  document.title = `${title} · Message Log`;
  clear(main, heading, body);
  main.setAttribute('aria-busy', 'false');
  main.dataset.state = 'ready';
  heading.focus({ preventScroll: true });
}

function signOut() {
  setToken(null);
  me = null;
  nav.hidden = true;
  clear(who);
  signIn();
}

function signIn(problem) {
  nav.hidden = true;
  const input = h('textarea', { name: 'token', rows: '4', required: true, autocomplete: 'off', spellcheck: 'false' });
  const config = getConfig();
  const errorRegion = h('div', { role: 'alert', class: 'problem' }, problem ? problemView(problem) : null);
  const form = h('form', {
    class: 'sign-in',
    onsubmit: (event) => {
      event.preventDefault();
      setToken(input.value);
      start();
    },
  }, field('Access token (JWT)', input), h('button', { type: 'submit' }, 'Sign in'));
  const body = [
    errorRegion,
    config.oidc && config.oidc.issuer && config.oidc.clientId
      ? h('p', null, h('button', { type: 'button', onclick: () => oidc.begin(config.oidc) }, 'Sign in with your identity provider'))
      : null,
    h('p', null, 'Paste a token the API accepts. It is kept for this tab only (sessionStorage) and sent only to the API.'),
    form,
  ];
  main.setAttribute('aria-busy', 'false');
  main.dataset.state = 'sign-in';
  const heading = h('h1', { tabindex: '-1' }, 'Sign in');
  document.title = 'Sign in · Message Log';
  clear(main, heading, body);
}

async function start() {
  main.setAttribute('aria-busy', 'true');
  main.dataset.state = 'loading';
  if (!token()) {
    signIn();
    return;
  }
  try {
    me = await getJson('/v1/me');
  } catch (error) {
    me = null;
    if (error.status === 401) setToken(null);
    signIn(error);
    return;
  }
  setTimeZone(me.time_zone || 'UTC');
  drawWho();
  route();
}

window.addEventListener('hashchange', () => {
  if (takeTokenFromFragment()) { // a console link followed in an open console: perhaps another token
    me = null;
    start();
  } else {
    route();
  }
});
window.addEventListener('msglog:unauthorized', (event) => {
  if (!me) return;
  setToken(null);
  me = null;
  clear(who);
  signIn(event.detail);
});
document.getElementById('skip').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

(async () => {
  await loadConfig();
  takeTokenFromFragment();
  try {
    if (await oidc.finish(getConfig().oidc)) history.replaceState(null, '', `${location.pathname}#/`);
  } catch (error) {
    signIn(error);
    return;
  }
  start();
})();
