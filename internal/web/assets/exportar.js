// The export page: find a course, download its transfer file.
import { api, busy, cell, courseStatus, download, filenameOf, startSession, when } from './comum.js';

const el = (id) => document.getElementById(id);
const PAGE_SIZE = 20;
const tokens = ['']; // the token of each page visited; the last is the current page's
let loaded = false;

function query() {
  const params = new URLSearchParams({ pageSize: String(PAGE_SIZE) });
  const title = el('busca').value.trim();
  if (title) params.set('titleQuery', title);
  if (el('status').value) params.set('status', el('status').value);
  const token = tokens[tokens.length - 1];
  if (token) params.set('pageToken', token);
  return params;
}

async function load() {
  const state = el('cursos-estado');
  const body = el('cursos').tBodies[0];
  busy(el('cursos'), true);
  state.className = 'estado';
  state.textContent = 'Carregando cursos…';
  try {
    const page = await api(`/gestor/courses?${query()}`);
    body.replaceChildren(...(page.courses || []).map(row));
    const n = (page.courses || []).length;
    state.textContent = n === 0 ? 'Nenhum curso encontrado.' : `${n} curso(s) nesta página.`;
    el('pagina').textContent = `Página ${tokens.length}`;
    el('anterior').disabled = tokens.length === 1;
    el('proxima').disabled = !page.nextPageToken;
    el('proxima').dataset.token = page.nextPageToken || '';
    loaded = true;
  } catch (err) {
    state.className = 'estado problema';
    state.textContent = `Não foi possível listar os cursos: ${err.message}`;
  } finally {
    busy(el('cursos'), false);
  }
}

function row(course) {
  const tr = document.createElement('tr');
  tr.dataset.id = course.id;
  tr.append(cell(course.title));
  const status = cell('');
  const label = document.createElement('span');
  label.className = `rotulo ${(course.status || '').replace('COURSE_STATUS_', '')}`;
  label.textContent = courseStatus(course.status);
  status.append(label);
  tr.append(status, cell(String(course.moduleCount ?? 0), 'num'), cell(String(course.lessonCount ?? 0), 'num'), cell(when(course.updatedAt)));
  const action = document.createElement('td');
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Exportar JSON';
  button.setAttribute('aria-label', `Exportar JSON de ${course.title}`);
  button.addEventListener('click', () => exportCourse(course, button));
  action.append(button);
  tr.append(action);
  return tr;
}

async function exportCourse(course, button) {
  const state = el('exportacao-estado');
  button.disabled = true;
  state.className = 'estado';
  state.textContent = `Exportando “${course.title}”…`;
  try {
    const response = await api(`/gestor/export/course/${encodeURIComponent(course.id)}`, { raw: true });
    const name = filenameOf(response.headers.get('Content-Disposition'), `${course.id}.json`);
    download(await response.blob(), name);
    state.className = 'estado ok';
    state.textContent = `Arquivo ${name} baixado.`;
  } catch (err) {
    state.className = 'estado problema';
    state.textContent = `Não foi possível exportar “${course.title}”: ${err.message}`;
  } finally {
    button.disabled = false;
  }
}

function restart() {
  tokens.length = 1;
  load();
}

el('filtro').addEventListener('submit', (event) => {
  event.preventDefault();
  restart();
});
el('status').addEventListener('change', restart);
el('proxima').addEventListener('click', () => {
  tokens.push(el('proxima').dataset.token);
  load();
});
el('anterior').addEventListener('click', () => {
  tokens.pop();
  load();
});

// ?busca= fills the search (the import page links a new course this way).
const wanted = new URLSearchParams(location.search).get('busca');
if (wanted) el('busca').value = wanted;

startSession(() => { if (!loaded) load(); else restart(); });
