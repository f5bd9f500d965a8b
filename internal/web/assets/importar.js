// The import page: choose a file, analyse it (nothing is written), apply it
// (a new DRAFT course), and the recent imports.
import { ApiError, api, busy, bytes, cell, courseStatus, download, maxFileBytes, startSession, upload, when } from './comum.js';

const el = (id) => document.getElementById(id);
const limit = maxFileBytes();

let file = null;      // the chosen file
let analysis = null;  // { digest, key, title } of the last analysis without errors
let applying = false;

// newKey makes the idempotency key of one analysis: a retry or a second click
// sends the same key, and the server creates one course.
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function setState(id, text, kind = '') {
  const node = el(id);
  node.className = `estado ${kind}`.trim();
  node.textContent = text;
}

function choose(chosen) {
  file = null;
  analysis = null;
  el('relatorio').hidden = true;
  el('criado').hidden = true;
  el('aplicar').disabled = true;
  setState('analise-estado', '');
  if (!chosen) {
    el('arquivo-info').textContent = '';
    el('analisar').disabled = true;
    return;
  }
  if (limit && chosen.size > limit) {
    el('arquivo-info').textContent = '';
    el('analisar').disabled = true;
    setState('analise-estado', `O arquivo “${chosen.name}” tem ${bytes(chosen.size)}; o limite desta instalação é ${bytes(limit)}. Ele não foi enviado.`, 'problema');
    return;
  }
  file = chosen;
  el('arquivo-info').textContent = `${chosen.name} · ${bytes(chosen.size)}`;
  el('analisar').disabled = false;
}

el('arquivo').addEventListener('change', () => choose(el('arquivo').files[0] || null));
const drop = el('soltar');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('sobre'); });
drop.addEventListener('dragleave', () => drop.classList.remove('sobre'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('sobre');
  if (e.dataTransfer.files.length) choose(e.dataTransfer.files[0]);
});

function showProgress(fraction) {
  el('envio').hidden = fraction === null;
  if (fraction !== null) el('envio-barra').value = Math.round(fraction * 100);
}

async function analyse() {
  if (!file) return;
  el('analisar').disabled = true;
  el('criado').hidden = true;
  setState('analise-estado', 'Analisando o arquivo…');
  showProgress(0);
  try {
    const { report } = await upload('/gestor/import/analyze', file, { progress: showProgress });
    render(report);
  } catch (err) {
    if (err instanceof ApiError && err.report) {
      render(err.report);
    } else {
      el('relatorio').hidden = true;
      setState('analise-estado', `A análise não foi feita: ${err.message}`, 'problema');
    }
  } finally {
    showProgress(null);
    el('analisar').disabled = !file;
  }
}
el('analisar').addEventListener('click', analyse);

const countRows = [
  ['Curso', 'courses'],
  ['Módulos', 'modules'],
  ['Aulas', 'lessons'],
  ['Quizzes', 'quizzes'],
  ['Questões de quiz', 'questions'],
  ['Opções de questão', 'options'],
  ['Competências', 'competenciesCreated', 'competenciesReused'],
  ['Ligações aula–competência', 'lessonCompetencyLinks'],
  ['Questões do banco', 'bankQuestionsCreated', null, 'bankQuestionsExisting'],
  ['Opções do banco', 'bankOptions', null, 'bankOptionsSkipped'],
  ['Perguntas frequentes (FAQ)', 'faqEntries'],
];

function render(report) {
  const errors = report.errors || [];
  const warnings = report.warnings || [];
  const counts = report.counts || {};
  el('contagens').tBodies[0].replaceChildren(...countRows.map(([label, created, reused, existing]) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = label;
    const n = (k) => (k ? String(counts[k] ?? 0) : '—');
    tr.append(th, cell(n(created), 'num'), cell(n(reused), 'num'), cell(n(existing), 'num'));
    return tr;
  }));
  // The service counts a file without errors only: zeros would mislead.
  el('contagens-bloco').hidden = errors.length > 0;
  findings('erros', errors);
  findings('avisos', warnings);
  const title = report.courseTitle ? `“${report.courseTitle}”` : 'O arquivo';
  el('relatorio-resumo').textContent = errors.length
    ? `${title} tem ${errors.length} erro(s): corrija o arquivo e analise de novo.`
    : `${title} pode ser importado${warnings.length ? `, com ${warnings.length} aviso(s)` : ''}.`;
  el('relatorio').hidden = false;
  analysis = errors.length || !report.ok ? null : { digest: report.digest, key: newKey(), title: report.courseTitle };
  el('aplicar').disabled = !analysis;
  setState('aplicacao-estado', '');
  setState('analise-estado', errors.length ? `Análise concluída: ${errors.length} erro(s).` : 'Análise concluída: nenhum erro.', errors.length ? 'problema' : 'ok');
}

function findings(id, list) {
  el(`${id}-bloco`).hidden = list.length === 0;
  el(id).replaceChildren(...list.map((f) => {
    const li = document.createElement('li');
    if (f.path) {
      const code = document.createElement('code');
      code.textContent = f.path;
      li.append(code, ' ');
    }
    li.append(f.message);
    const tag = document.createElement('span');
    tag.className = 'visualmente-oculto';
    tag.textContent = ` (${f.code})`;
    li.append(tag);
    return li;
  }));
}

async function apply() {
  if (!analysis || applying) return;
  applying = true;
  el('aplicar').disabled = true;
  el('analisar').disabled = true;
  setState('aplicacao-estado', 'Aplicando a importação…');
  showProgress(0);
  try {
    const result = await upload('/gestor/import/apply', file, {
      headers: { 'If-Match': `"${analysis.digest}"`, 'Idempotency-Key': analysis.key },
      progress: showProgress,
    });
    created(result);
    analysis = null; // applied: a new analysis is needed for another import
    setState('aplicacao-estado', 'Importação aplicada: o curso foi criado como rascunho.', 'ok');
    loadRecent();
  } catch (err) {
    setState('aplicacao-estado', `A importação não foi aplicada: ${err.message}`, 'problema');
    // Nothing was written: the same analysis (and key) may be tried again.
    el('aplicar').disabled = !analysis || err.status === 400 || err.status === 409 || err.status === 412;
  } finally {
    applying = false;
    showProgress(null);
    el('analisar').disabled = !file;
  }
}
el('aplicar').addEventListener('click', apply);

let idMap = null;
function created(result) {
  const title = result.report?.courseTitle || analysis?.title || '';
  el('criado-titulo-curso').textContent = title;
  el('criado-id').textContent = result.courseId;
  el('criado-lote').textContent = result.importBatchId;
  el('criado-status').textContent = 'Rascunho (DRAFT)';
  el('criado-exportar').href = `/gestor/conteudo/exportar?busca=${encodeURIComponent(title)}`;
  idMap = { importBatchId: result.importBatchId, courseId: result.courseId, idMap: result.idMap || [] };
  el('criado').hidden = false;
  el('criado').focus();
}
el('baixar-mapa').addEventListener('click', () => {
  if (!idMap) return;
  download(new Blob([JSON.stringify(idMap, null, 2)], { type: 'application/json' }), `mapa-de-ids-${idMap.importBatchId}.json`);
});

async function loadRecent() {
  const table = el('recentes');
  busy(table, true);
  try {
    const { batches = [] } = await api('/gestor/import/batches?pageSize=10');
    table.tBodies[0].replaceChildren(...batches.map((b) => {
      const tr = document.createElement('tr');
      tr.dataset.id = b.id;
      const course = cell('');
      if (b.courseId) {
        const a = document.createElement('a');
        a.href = `/gestor/conteudo/exportar?busca=${encodeURIComponent(b.courseTitle)}`;
        a.textContent = b.courseTitle;
        course.append(a, ` (${courseStatus(b.courseStatus)})`);
      } else {
        course.textContent = 'curso excluído';
      }
      const digest = cell('');
      const code = document.createElement('code');
      code.textContent = (b.digest || '').slice(0, 12);
      code.title = b.digest || '';
      digest.append(code);
      tr.append(cell(when(b.createdAt)), cell(b.actorEmail || b.actorId), cell(b.sourceEnvironment || '—'), digest, course);
      return tr;
    }));
    setState('recentes-estado', batches.length ? `${batches.length} importação(ões) mais recentes.` : 'Nenhuma importação ainda.');
  } catch (err) {
    setState('recentes-estado', `Não foi possível listar as importações: ${err.message}`, 'problema');
  } finally {
    busy(table, false);
  }
}

startSession(loadRecent);
