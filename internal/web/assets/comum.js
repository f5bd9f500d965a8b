// Shared by the manager's pages: the access token, calls to the REST API, and
// the formatting of what it answers. Every text shown is Portuguese.

const TOKEN_KEY = 'contentd.token';

// tokenFromPlaces takes the token, in order, from the URL fragment (#token=…,
// the link `make run` prints; removed from the address bar at once), from this
// tab's session storage (a token pasted before), or from the Supabase session
// the LMS keeps in the browser when the pages share its origin.
function tokenFromPlaces() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromLink = fragment.get('token');
  if (fromLink) {
    sessionStorage.setItem(TOKEN_KEY, fromLink);
    history.replaceState(null, '', location.pathname + location.search);
    return { token: fromLink, origem: 'o link de acesso' };
  }
  const kept = sessionStorage.getItem(TOKEN_KEY);
  if (kept) return { token: kept, origem: 'o token informado nesta aba' };
  const supabase = supabaseToken();
  if (supabase) return { token: supabase, origem: 'a sua sessão no LMS' };
  return null;
}

// supabaseToken reads supabase-js's session: sb-<ref>-auth-token (v2), or
// supabase.auth.token (v1).
function supabaseToken() {
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (!/^sb-.+-auth-token$/.test(key) && key !== 'supabase.auth.token') continue;
    try {
      const value = JSON.parse(localStorage.getItem(key));
      const token = value?.access_token ?? value?.currentSession?.access_token;
      if (typeof token === 'string' && token) return token;
    } catch { /* not a session */ }
  }
  return null;
}

let current = null;

/** The error of an API call: the HTTP status and the service's Error body. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `O servidor respondeu ${status}.`);
    this.status = status;
    this.code = body?.code || '';
    this.path = body?.path || '';
    this.report = body?.report || null;
  }
}

const el = (id) => document.getElementById(id);

// The session panel: what the page knows of the token, and the form to paste one.
function showSession(message, { ask = false, problem = false } = {}) {
  const state = el('sessao-estado');
  state.textContent = message;
  state.classList.toggle('problema', problem);
  el('token-form').hidden = !ask;
  el('token-trocar').hidden = ask || !current;
}

/**
 * startSession finds the token and calls ready() once there is one; a token
 * pasted later, or after a 401, calls it again.
 */
export function startSession(ready) {
  el('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = el('token-campo').value.trim().replace(/^Bearer\s+/i, '');
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    current = { token, origem: 'o token informado nesta aba' };
    el('token-campo').value = '';
    showSession(`Acesso com ${current.origem}.`);
    ready();
  });
  el('token-trocar').addEventListener('click', () => {
    showSession('Cole um novo token de acesso.', { ask: true });
    el('token-campo').focus();
  });
  current = tokenFromPlaces();
  if (!current) {
    showSession('Nenhum token de acesso. Abra esta página pelo LMS (ou pelo link que o make run mostra), ou cole abaixo o token da sua sessão.', { ask: true, problem: true });
    return;
  }
  showSession(`Acesso com ${current.origem}.`);
  ready();
}

// refused explains a 401 or a 403 in the session panel and asks for a token.
function refused(err) {
  if (err.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    current = null;
    showSession(`Seu acesso não foi aceito: ${err.message} Entre novamente no LMS e reabra esta página, ou cole abaixo um token válido.`, { ask: true, problem: true });
  } else if (err.status === 403) {
    showSession(`Seu usuário não pode usar esta área: ${err.message} Peça a um administrador o papel de gestor, ou use o token de um gestor.`, { ask: true, problem: true });
  }
}

/**
 * api calls the REST API with the token. It resolves to the parsed JSON, or the
 * raw Response with raw; it rejects with an ApiError, after telling the session
 * panel of a 401 or 403.
 */
export async function api(path, { method = 'GET', body, headers = {}, raw = false } = {}) {
  if (!current) throw new ApiError(401, { code: 'TOKEN_MISSING', message: 'Nenhum token de acesso.' });
  let response;
  try {
    response = await fetch(path, { method, body, headers: { ...headers, Authorization: `Bearer ${current.token}` } });
  } catch {
    throw new ApiError(0, { code: 'NETWORK', message: 'Não foi possível falar com o servidor. Verifique a conexão e tente de novo.' });
  }
  if (response.ok) return raw ? response : response.json();
  const err = new ApiError(response.status, await response.json().catch(() => null));
  refused(err);
  throw err;
}

/** upload POSTs a file with XMLHttpRequest, which reports upload progress. */
export function upload(path, file, { headers = {}, progress } = {}) {
  return new Promise((resolve, reject) => {
    if (!current) {
      reject(new ApiError(401, { code: 'TOKEN_MISSING', message: 'Nenhum token de acesso.' }));
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('Authorization', `Bearer ${current.token}`);
    xhr.setRequestHeader('Content-Type', 'application/json');
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && progress) progress(e.loaded / e.total); };
    xhr.onerror = () => reject(new ApiError(0, { code: 'NETWORK', message: 'A conexão caiu durante o envio. Tente de novo.' }));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body);
        return;
      }
      const err = new ApiError(xhr.status, body);
      refused(err);
      reject(err);
    };
    xhr.send(file);
  });
}

/** download saves a Blob under a file name, as a link with download does. */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** filenameOf reads the file name of a Content-Disposition header. */
export function filenameOf(disposition, fallback) {
  const m = /filename="([^"]+)"/.exec(disposition || '');
  return m ? m[1] : fallback;
}

const statusNames = {
  COURSE_STATUS_DRAFT: 'Rascunho',
  COURSE_STATUS_PUBLISHED: 'Publicado',
  COURSE_STATUS_ARCHIVED: 'Arquivado',
};
export const courseStatus = (s) => statusNames[s] || '—';

const dateFormat = new Intl.DateTimeFormat('pt-BR', { dateStyle: 'short', timeStyle: 'short' });
export const when = (iso) => (iso ? dateFormat.format(new Date(iso)) : '—');

export function bytes(n) {
  n = Number(n || 0);
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < units.length - 1);
  return `${n.toLocaleString('pt-BR', { maximumFractionDigits: 1 })} ${units[i]}`;
}

/** cell makes a table cell with text (never HTML). */
export function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

/** busy marks a region as loading (or not) for assistive technology. */
export function busy(node, on) {
  node.setAttribute('aria-busy', on ? 'true' : 'false');
}

/** maxFileBytes is the import size limit the server told the page. */
export function maxFileBytes() {
  return Number(document.querySelector('meta[name="contentd-max-file-bytes"]')?.content || 0);
}
