// The backups page: the routine, the backups kept, the latest runs and the
// integrity report. Read-only.
import { api, busy, bytes, cell, startSession, when } from './comum.js';

const el = (id) => document.getElementById(id);

const triggers = {
  BACKUP_TRIGGER_SCHEDULE: 'agendado',
  BACKUP_TRIGGER_MANUAL: 'manual',
  BACKUP_TRIGGER_MIGRATE: 'antes de migração',
  BACKUP_TRIGGER_RELEASE_CHECK: 'checklist de release',
};
const statuses = {
  BACKUP_RUN_STATUS_RUNNING: ['RUNNING', 'em andamento'],
  BACKUP_RUN_STATUS_SUCCEEDED: ['SUCCEEDED', 'concluído'],
  BACKUP_RUN_STATUS_FAILED: ['FAILED', 'falhou'],
};

// coreNames are the integrity check's core tables, as the operators' document names them.
const coreNames = {
  cursos: 'Cursos',
  modulos: 'Módulos',
  aulas: 'Aulas',
  quizzes: 'Quizzes',
  usuarios: 'Usuários',
  certificados: 'Certificados',
};

function setState(id, text, kind = '') {
  el(id).className = `estado ${kind}`.trim();
  el(id).textContent = text;
}

function label(kind, text) {
  const span = document.createElement('span');
  span.className = `rotulo ${kind}`;
  span.textContent = text;
  return span;
}

async function loadBackups() {
  busy(el('backups'), true);
  try {
    const r = await api('/gestor/backups?runLimit=20');
    const s = r.schedule;
    el('rotina-agenda').textContent = s ? `${s.cron} (${s.timeZone})` : 'sem agenda nesta instalação (backups pelo comando contentd backup)';
    el('rotina-proxima').textContent = s ? when(s.nextRunAt) : '—';
    el('rotina-ultimo').textContent = r.lastSuccessAt ? when(r.lastSuccessAt) : 'nenhum entre as execuções recentes';
    const last = (r.runs || [])[0];
    el('rotina-execucao').replaceChildren(...(last ? runOutcome(last) : ['nenhuma']));
    el('rotina-destino').textContent = r.destination;
    el('rotina-manter').textContent = r.keep ? `os ${r.keep} mais recentes` : 'todos';
    el('rotina').hidden = false;
    setState('rotina-estado', r.destinationError ? `Não foi possível listar o destino: ${r.destinationError}` : `Lido em ${when(new Date().toISOString())}.`,
      r.destinationError ? 'problema' : '');
    el('backups').tBodies[0].replaceChildren(...(r.backups || []).map((b) => {
      const tr = document.createElement('tr');
      const sum = cell('');
      const code = document.createElement('code');
      code.textContent = b.sha256 ? `${b.sha256.slice(0, 16)}…` : (b.problem || '');
      code.title = b.sha256 || '';
      sum.append(code);
      tr.append(cell(b.name), cell(when(b.createdAt)), cell(bytes(b.sizeBytes), 'num'), cell(triggers[b.trigger] || '—'),
        cell(String(b.migrationVersion ?? ''), 'num'), sum);
      return tr;
    }));
    el('execucoes').tBodies[0].replaceChildren(...(r.runs || []).map((run) => {
      const tr = document.createElement('tr');
      const outcome = cell('');
      outcome.append(...runOutcome(run));
      tr.append(cell(when(run.startedAt)), cell(triggers[run.trigger] || '—'), outcome, cell(run.backupName || '—'));
      return tr;
    }));
  } catch (err) {
    setState('rotina-estado', `Não foi possível ler os backups: ${err.message}`, 'problema');
  } finally {
    busy(el('backups'), false);
  }
}

function runOutcome(run) {
  const [kind, text] = statuses[run.status] || ['', run.status];
  const parts = [label(kind, text)];
  if (run.errorMessage) parts.push(` ${run.errorMessage} (${run.errorCode})`);
  return parts;
}

async function loadIntegrity() {
  busy(el('integridade'), true);
  setState('integridade-estado', 'Contando as linhas de cada tabela…');
  try {
    const { report } = await api('/gestor/integrity');
    el('integridade').tBodies[0].replaceChildren(...(report.tables || []).map((t) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = t.label ? `${coreNames[t.label] || t.label} (${t.schema}.${t.name})` : `${t.schema}.${t.name}`;
      tr.append(th, cell(String(t.rows), 'num'));
      if (t.label) tr.className = 'principal';
      return tr;
    }));
    const orphans = Number(report.orphanRows || 0);
    el('integridade-resumo').textContent = `Versão das migrações: ${report.migrationVersion}. ` +
      (orphans ? `${orphans} linha(s) apontam para registros que não existem mais.` : `Nenhuma linha órfã (${(report.orphanChecks || []).length} chaves verificadas).`);
    setState('integridade-estado', `Lido em ${when(report.takenAt)}.`, orphans ? 'problema' : '');
  } catch (err) {
    setState('integridade-estado', `Não foi possível ler a integridade: ${err.message}`, 'problema');
  } finally {
    busy(el('integridade'), false);
  }
}

startSession(() => {
  loadBackups();
  loadIntegrity();
});
