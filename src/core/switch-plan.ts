/**
 * The mode switch (embedded ↔ docker) as a plan of steps, and what undoes each step when a later
 * one fails. Pure: the extension (src/vscode/switch-mode.ts) carries the steps out. The rule the
 * plan keeps: until the new stack runs on the normal ports, the old one is the one that counts,
 * and nothing is ever deleted from either store.
 */
export type Mode = 'embedded' | 'docker';

export type SwitchStep =
  /** The old stack is off but holds the history: run it just to read it. */
  | 'start-source'
  /** The new stack on temporary ports, so both run at once. */
  | 'start-target-temp'
  /** Ask whether to copy (now that both stores can be counted). */
  | 'confirm-carry'
  | 'copy-history'
  | 'stop-target-temp'
  | 'stop-source'
  | 'save-mode'
  /** The new stack on the normal ports (only when collection was on). */
  | 'start-target';

export interface SwitchInput {
  from: Mode;
  to: Mode;
  /** Collection is on now: it must be on again afterwards. */
  collecting: boolean;
  /** The old stack is running (collecting, or started by someone else). */
  sourceRunning: boolean;
  /** The author wants the history carried across (asked before anything starts). */
  carryHistory: boolean;
}

export function planSwitch(i: SwitchInput): SwitchStep[] {
  if (i.from === i.to) return [];
  const steps: SwitchStep[] = [];
  if (i.carryHistory) {
    if (!i.sourceRunning) steps.push('start-source');
    steps.push('start-target-temp', 'confirm-carry', 'copy-history', 'stop-target-temp');
  }
  // A source we started only to read it is stopped again, like one that was running.
  if (i.sourceRunning || i.carryHistory) steps.push('stop-source');
  steps.push('save-mode');
  if (i.collecting) steps.push('start-target');
  return steps;
}

export type UndoStep = 'stop-source' | 'stop-target-temp' | 'restart-source' | 'restore-mode' | 'stop-target';

/**
 * What to do, newest first, after a failure: every step already done is undone so the old mode
 * runs as before. Copied rows stay in the new store (never delete data); the message says so.
 */
export function undoSteps(done: readonly SwitchStep[], i: Pick<SwitchInput, 'sourceRunning'>): UndoStep[] {
  const undo: UndoStep[] = [];
  for (const s of [...done].reverse()) {
    switch (s) {
      case 'start-target':
        undo.push('stop-target');
        break;
      case 'save-mode':
        undo.push('restore-mode');
        break;
      case 'stop-source':
        // Only a source that was running before the switch comes back.
        if (i.sourceRunning) undo.push('restart-source');
        break;
      case 'start-target-temp':
        if (!done.includes('stop-target-temp')) undo.push('stop-target-temp');
        break;
      case 'start-source':
        if (!done.includes('stop-source')) undo.push('stop-source');
        break;
      default:
        break;
    }
  }
  return undo;
}

/** The choices offered once both stores are counted; the first is the default. */
export interface CarryChoice {
  carry: boolean;
  label: string;
  detail: string;
}

export function carryChoices(from: Mode, to: Mode, sourceRows: number, targetRows: number): CarryChoice[] {
  const carry: CarryChoice = {
    carry: true,
    label: `Carry the history across (${sourceRows} records)`,
    detail:
      targetRows > 0
        ? `The ${to} store already holds ${targetRows} records; records it already has (from an earlier switch) are recognised and skipped, the rest are added.`
        : `Copies the ${from} store's records into the ${to} store and checks the counts; the ${from} store keeps its copy.`,
  };
  const fresh: CarryChoice = {
    carry: false,
    label: `Switch without the history`,
    detail: `The ${from} store keeps its ${sourceRows} records; switching back to ${from} shows them again.`,
  };
  // With data already on the other side, not copying is the likelier wish (copying again is harmless).
  return targetRows > 0 ? [fresh, carry] : [carry, fresh];
}

/** One line for the result message: per-table counts, and that they matched. */
export function copySummary(tables: readonly { table: string; sourceRows: number; copiedRows: number; alreadyPresent?: number }[]): string {
  const total = tables.reduce((n, t) => n + t.copiedRows, 0);
  const already = tables.reduce((n, t) => n + (t.alreadyPresent ?? 0), 0);
  const parts = tables.filter((t) => t.sourceRows > 0).map((t) => `${t.table} ${t.copiedRows + (t.alreadyPresent ?? 0)}/${t.sourceRows}`);
  const ok = tables.every((t) => t.copiedRows + (t.alreadyPresent ?? 0) === t.sourceRows);
  return `${total} records copied${already > 0 ? `, ${already} already there` : ''}${parts.length ? ` (${parts.join(', ')})` : ''}; ${ok ? 'counts match' : 'COUNTS DIFFER'}.`;
}

export function otherMode(m: Mode): Mode {
  return m === 'embedded' ? 'docker' : 'embedded';
}
