// Edits the caller accounts in a rules file's text, keeping every comment and the layout:
// the new or changed lines are spliced into the original text; the rest is left byte for byte.
// Layouts too unusual to splice (flow-style callers, an empty accounts list) are rewritten
// through yaml's Document API, which still keeps comments.

import { Document, isMap, isScalar, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';

export interface NewAccount {
  readonly id: string;
  readonly owner: string;
  readonly team: string;
  readonly scenario: string;
  readonly class: string;
  readonly keySha256: string;
  readonly quota: string;
  readonly burst?: number;
  readonly routes?: readonly string[];
}

/** What a rules file holds about callers. */
export interface CallersInFile {
  readonly hasCallers: boolean;
  readonly accountIds: readonly string[];
}

export function callersIn(text: string): CallersInFile {
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !isMap(doc.contents)) return { hasCallers: false, accountIds: [] };
  const accounts = doc.getIn(['callers', 'accounts'], true);
  const accountIds = isSeq(accounts) ? accounts.items.flatMap((item) => (isMap(item) ? [String(item.get('id'))] : [])) : [];
  return { hasCallers: doc.contents.has('callers'), accountIds };
}

/** The text with the account appended to callers.accounts. */
export function addAccount(text: string, account: NewAccount): string {
  const doc = parseDocument(text);
  const accounts = doc.getIn(['callers', 'accounts'], true);
  const item = accountNode(account);

  if (isSeq(accounts) && !accounts.flow && accounts.items.length > 0 && accounts.range) {
    const last = accounts.items[accounts.items.length - 1] as { range?: [number, number, number] };
    if (last.range) {
      const indent = columnOf(text, accounts.range[0]);
      const separated = accounts.items.slice(1).some((entry) => isMap(entry) && entry.spaceBefore === true);
      const block = new Document([item]).toString({ lineWidth: 0, flowCollectionPadding: false });
      const lines = block.trimEnd().split('\n').map((line) => `${' '.repeat(indent)}${line}`);
      return insertAfterLine(text, last.range[1], `${separated ? '\n' : ''}${lines.join('\n')}\n`);
    }
  }

  // Rare layouts: let yaml rewrite the document.
  const callers = doc.get('callers', true);
  if (!isMap(callers)) doc.set('callers', doc.createNode({ accounts: [] }));
  const list = doc.getIn(['callers', 'accounts'], true);
  if (isSeq(list) && list.items.length > 0) list.items.push(item);
  else doc.setIn(['callers', 'accounts'], doc.createNode([item]));
  return doc.toString({ lineWidth: 0 });
}

/** The text with the account's key_sha256 replaced (or added); null when the id is not there. */
export function setAccountKey(text: string, id: string, keySha256: string): string | null {
  const doc = parseDocument(text);
  const accounts = doc.getIn(['callers', 'accounts'], true);
  if (!isSeq(accounts)) return null;
  const account = accounts.items.find((item): item is YAMLMap => isMap(item) && item.get('id') === id);
  if (account === undefined) return null;

  const current = account.get('key_sha256', true);
  if (isScalar(current) && current.range) {
    return `${text.slice(0, current.range[0])}${keySha256}${text.slice(current.range[1])}`;
  }
  const idPair = account.items.find((pair) => isScalar(pair.key) && pair.key.value === 'id');
  const idKey = idPair?.key;
  if (!account.flow && isScalar(idKey) && idKey.range && isScalar(idPair?.value) && idPair.value.range) {
    const indent = columnOf(text, idKey.range[0]);
    return insertAfterLine(text, idPair.value.range[1], `${' '.repeat(indent)}key_sha256: ${keySha256}\n`);
  }
  account.set('key_sha256', keySha256);
  return doc.toString({ lineWidth: 0 });
}

/** The text with the account's quota replaced (or added); null when the id is not there. */
export function setAccountQuota(text: string, id: string, quota: string): string | null {
  const doc = parseDocument(text);
  const accounts = doc.getIn(['callers', 'accounts'], true);
  if (!isSeq(accounts)) return null;
  const account = accounts.items.find((item): item is YAMLMap => isMap(item) && item.get('id') === id);
  if (account === undefined) return null;

  const current = account.get('quota', true);
  if (isScalar(current) && current.range) {
    return `${text.slice(0, current.range[0])}${quota}${text.slice(current.range[1])}`;
  }
  const idPair = account.items.find((pair) => isScalar(pair.key) && pair.key.value === 'id');
  const idKey = idPair?.key;
  if (!account.flow && isScalar(idKey) && idKey.range && isScalar(idPair?.value) && idPair.value.range) {
    const indent = columnOf(text, idKey.range[0]);
    return insertAfterLine(text, idPair.value.range[1], `${' '.repeat(indent)}quota: ${quota}\n`);
  }
  account.set('quota', quota);
  return doc.toString({ lineWidth: 0 });
}

function accountNode(account: NewAccount): YAMLMap {
  const fields: Record<string, unknown> = {
    id: account.id,
    owner: account.owner,
    team: account.team,
    scenario: account.scenario,
    class: account.class,
    key_sha256: account.keySha256,
    quota: account.quota,
  };
  if (account.burst !== undefined) fields.burst = account.burst;
  if (account.routes !== undefined) fields.routes = [...account.routes];
  const node = new Document(fields).contents as YAMLMap;
  const routes = node.get('routes', true);
  if (isSeq(routes)) (routes as YAMLSeq).flow = true;
  return node;
}

/** 0-based column of an offset. */
function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/** Inserts `lines` at the start of the line after the one holding `offset`. */
function insertAfterLine(text: string, offset: number, lines: string): string {
  const atLineStart = offset > 0 && text[offset - 1] === '\n';
  const newline = atLineStart ? offset - 1 : text.indexOf('\n', offset);
  if (newline < 0) return `${text}\n${lines}`;
  return `${text.slice(0, newline + 1)}${lines}${text.slice(newline + 1)}`;
}
