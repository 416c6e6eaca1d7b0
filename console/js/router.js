// Hash routes: #/path?query. The token fragment (#token=…) is taken away before routing.

export function current() {
  const raw = location.hash.replace(/^#/, '');
  const [path, query = ''] = raw.split(/\?(.*)/s);
  return { path: path || '/', query: new URLSearchParams(query) };
}

// Writes a screen's own state (filters, sort) into the address without drawing the screen again.
export function replaceQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(name, value);
  }
  const text = query.toString();
  history.replaceState(history.state, '', `#${path}${text ? `?${text}` : ''}`);
}

export function link(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== '') query.set(name, value);
  }
  const text = query.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}
