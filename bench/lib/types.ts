/** What every scenario gets, and what it returns to bench/run.ts. */
import type { MachineInfo } from './machine.js';
import type { Child } from './procs.js';
import type { MessageTemplate } from './seed.js';
import type { Row } from './table.js';

export interface ReceiverStats {
  requests: number;
  byKind: Record<'ok' | 'fail' | 'hang' | 'other', number>;
  distinct: number;
  duplicates: number;
  firstAt: number | null;
  lastAt: number | null;
  okPerPath: Record<string, number>;
  hanging: number;
  sockets: number;
  rss: number;
}

export interface Receiver {
  child: Child;
  /** `http://127.0.0.1:<port>` */
  url: string;
  reset(track?: boolean): Promise<void>;
  stats(): Promise<ReceiverStats>;
  /** [orderId, arrival, pathIndex]… flattened, and the paths */
  receipts(): Promise<{ receipts: number[]; paths: string[] }>;
  /** ends hanging requests */
  release(): Promise<void>;
}

export interface Ctx {
  quick: boolean;
  receiver: Receiver;
  template: MessageTemplate;
  /** PostgreSQL answers (else the PG rows are skipped) */
  pg: boolean;
  /** Redis answers (else the BullMQ scenario is skipped) */
  redis: boolean;
  wrk: boolean;
  cpuProfDir?: string;
  machine: MachineInfo;
  /** results of scenarios that already ran in this process (BullMQ compares with throughput) */
  previous: Map<string, ScenarioResult>;
}

export interface Goal {
  goal: string;
  measured: string;
  met: boolean | null;
}

export interface ScenarioResult {
  id: string;
  title: string;
  /** the settings that shaped the figures */
  settings: Record<string, unknown>;
  columns: string[];
  rows: Row[];
  /** ratios and headline figures, by name */
  headline: Record<string, number | null>;
  goals: Goal[];
  notes: string[];
  /** everything measured, for the JSON file */
  data: unknown;
  svg: string;
}

export interface Scenario {
  id: string;
  title: string;
  run(ctx: Ctx): Promise<ScenarioResult>;
}
