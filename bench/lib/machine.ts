/** What the figures were measured on: they are only comparable within one run on one machine. */
import { cpus, loadavg, release, totalmem, platform } from 'node:os';
import { runCommand } from './procs.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGB: number;
  os: string;
  node: string;
  loadBefore: number[];
  commit: string;
  dirty: boolean;
  postgres?: string;
  redis?: string;
  wrk?: string;
}

export async function machineInfo(): Promise<MachineInfo> {
  const cpuList = cpus();
  const head = await runCommand('git', ['rev-parse', '--short', 'HEAD'], 5000).catch(() => ({ stdout: '' }));
  const dirty = await runCommand('git', ['status', '--porcelain', '--untracked-files=no'], 5000).catch(() => ({ stdout: '' }));
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryGB: Math.round(totalmem() / 1024 ** 3),
    os: `${platform()} ${release()}`,
    node: process.version,
    loadBefore: loadavg().map((l) => Math.round(l * 100) / 100),
    commit: head.stdout.trim() || 'unknown',
    dirty: dirty.stdout.trim().length > 0,
  };
}

/** The machine in one line; `full` adds the commit and the load average (per run). */
export function describeMachine(m: MachineInfo, full = true): string {
  const base = `${m.cores} × ${m.cpuModel}, ${m.memoryGB} GB RAM, ${m.os}, Node ${m.node}${m.postgres ? `, PostgreSQL ${m.postgres}` : ''}${m.redis ? `, Redis ${m.redis}` : ''}`;
  return full ? `${base}; ${commitText(m)}; load average before ${m.loadBefore.join(' / ')}` : base;
}

export function commitText(m: MachineInfo): string {
  return `commit ${m.commit}${m.dirty ? ' (+ uncommitted changes)' : ''}`;
}
