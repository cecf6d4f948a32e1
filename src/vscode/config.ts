/** The `chapterTelemetry.*` settings, read into one typed object. */
import { userInfo } from 'node:os';
import * as vscode from 'vscode';
import { parseLimits, type BudgetLimits } from '../core/budget';
import { DEFAULT_CHAPTER_PATTERNS } from '../core/chapter';
import { OTLP_PROTOCOLS, type OtlpProtocol } from '../core/otel-env';
import { userOnlyValue, type UserOnlySetting } from '../core/user-only-settings';
import { DEFAULT_ENDPOINTS, type StackEndpoints, type StackMode } from '../stack/types';

export interface Config {
  mode: StackMode;
  endpoints: StackEndpoints;
  /** An explicit OTLP endpoint for terminals (e.g. a team collector); empty = our stack. */
  endpoint: string;
  otlpProtocol: OtlpProtocol;
  chapterPatterns: string[];
  userId: string;
  injectIntoTerminals: boolean;
  logUserPrompts: boolean;
  sendFilePaths: boolean;
  serverNodePath: string;
  enginePath: string;
  dataDir: string;
  /** Docker mode: empty values fall back to the environment, then to the compose file's defaults. */
  docker: { clickhouseImage: string; collectorImage: string; projectName: string };
  /** Spend limits (`chapterTelemetry.budget.*`); 0 / empty = off. */
  budget: BudgetLimits;
  /** User-only settings (src/core/user-only-settings.ts) a workspace tried to set; their values were ignored. */
  ignoredWorkspaceSettings: UserOnlySetting[];
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'author';
  }
}

function port(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536 ? v : fallback;
}

export function readConfig(): Config {
  const c = vscode.workspace.getConfiguration('chapterTelemetry');
  const ignored: UserOnlySetting[] = [];
  // Settings that name programs, folders, images, destinations or what is recorded: the user's value or the
  // default, never one from .vscode/settings.json (a cloned repository must not decide them).
  const mine = <T>(key: UserOnlySetting, fallback: T): T => {
    const r = userOnlyValue<T>(c.inspect<T>(key));
    if (r.ignoredWorkspaceValue) ignored.push(key);
    return r.value ?? fallback;
  };
  const text = (key: UserOnlySetting): string => {
    const v = mine<unknown>(key, '');
    return typeof v === 'string' ? v.trim() : '';
  };
  const protocol = c.get<string>('otlpProtocol', 'grpc');
  const patterns = c.get<string[]>('chapterPatterns');
  return {
    mode: c.get<string>('mode') === 'docker' ? 'docker' : 'embedded',
    endpoints: {
      host: text('host') || DEFAULT_ENDPOINTS.host,
      grpcPort: port(mine('grpcPort', undefined), DEFAULT_ENDPOINTS.grpcPort),
      otlpHttpPort: port(mine('otlpHttpPort', undefined), DEFAULT_ENDPOINTS.otlpHttpPort),
      httpPort: port(mine('httpPort', undefined), DEFAULT_ENDPOINTS.httpPort),
    },
    endpoint: text('endpoint'),
    otlpProtocol: (OTLP_PROTOCOLS as readonly string[]).includes(protocol) ? (protocol as OtlpProtocol) : 'grpc',
    chapterPatterns: Array.isArray(patterns) && patterns.length > 0 ? patterns : [...DEFAULT_CHAPTER_PATTERNS],
    userId: c.get<string>('userId', '').trim() || osUser(),
    injectIntoTerminals: c.get<boolean>('injectIntoTerminals', true),
    logUserPrompts: mine<unknown>('logUserPrompts', false) === true,
    sendFilePaths: c.get<boolean>('sendFilePaths', true),
    serverNodePath: text('serverNodePath'),
    enginePath: text('enginePath'),
    dataDir: text('dataDir'),
    docker: {
      clickhouseImage: text('docker.clickhouseImage'),
      collectorImage: text('docker.collectorImage'),
      projectName: text('docker.projectName'),
    },
    budget: parseLimits(c.get('budget.dailyUsd'), c.get('budget.weeklyUsd'), c.get('budget.chapterUsd')),
    ignoredWorkspaceSettings: ignored,
  };
}
