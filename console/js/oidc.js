// OpenID Connect authorization code flow with PKCE (config.json: "oidc": {"issuer", "clientId",
// "audience"?, "scope"?}): the console is a public client; the access token (or the ID token when the
// provider gives none) becomes the API's bearer token.
import { setToken } from './api.js';

const KEY = 'msglog.console.oidc';

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function random() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function discover(issuer) {
  const answer = await fetch(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  if (!answer.ok) throw new Error(`the identity provider's configuration could not be read (${answer.status})`);
  return answer.json();
}

function redirectUri() {
  return `${location.origin}${location.pathname}`;
}

export async function begin(config) {
  const metadata = await discover(config.issuer);
  const verifier = random();
  const state = random();
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(KEY, JSON.stringify({ verifier, state, tokenEndpoint: metadata.token_endpoint }));
  const target = new URL(metadata.authorization_endpoint);
  target.search = new URLSearchParams({
    response_type: 'code', client_id: config.clientId, redirect_uri: redirectUri(),
    scope: config.scope || 'openid profile', state, code_challenge: challenge, code_challenge_method: 'S256',
    // the API's audience (the JWT authorizer checks it): providers such as Auth0 issue an access
    // token for it only when asked; others ignore the parameter
    ...(config.audience ? { audience: config.audience } : {}),
  }).toString();
  location.assign(target.toString());
}

// True when this page load was the provider's redirect back and the token is now kept.
export async function finish(config) {
  const query = new URLSearchParams(location.search);
  if (!config || !query.has('state') || !(query.has('code') || query.has('error'))) return false;
  const saved = JSON.parse(sessionStorage.getItem(KEY) || 'null');
  sessionStorage.removeItem(KEY);
  history.replaceState(null, '', location.pathname);
  if (query.has('error')) throw new Error(`sign-in refused: ${query.get('error_description') || query.get('error')}`);
  if (!saved || saved.state !== query.get('state')) throw new Error('sign-in answer does not match this tab: sign in again');
  const answer = await fetch(saved.tokenEndpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: query.get('code'), redirect_uri: redirectUri(),
      client_id: config.clientId, code_verifier: saved.verifier,
    }),
  });
  if (!answer.ok) throw new Error(`the identity provider refused the code (${answer.status})`);
  const tokens = await answer.json();
  setToken(tokens.access_token || tokens.id_token);
  return true;
}
