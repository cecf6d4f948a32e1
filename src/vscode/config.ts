/** The `chapterTelemetry.*` settings, read into one typed object. */
import { userInfo } from 'node:os';
import * as vscode from 'vscode';
import { DEFAULT_CHAPTER_PATTERNS } from '../core/chapter';
import { OTLP_PROTOCOLS, type OtlpProtocol } from '../core/otel-env';
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
  const protocol = c.get<string>('otlpProtocol', 'grpc');
  const patterns = c.get<string[]>('chapterPatterns');
  return {
    mode: c.get<string>('mode') === 'docker' ? 'docker' : 'embedded',
    endpoints: {
      host: c.get<string>('host') || DEFAULT_ENDPOINTS.host,
      grpcPort: port(c.get('grpcPort'), DEFAULT_ENDPOINTS.grpcPort),
      otlpHttpPort: port(c.get('otlpHttpPort'), DEFAULT_ENDPOINTS.otlpHttpPort),
      httpPort: port(c.get('httpPort'), DEFAULT_ENDPOINTS.httpPort),
    },
    endpoint: c.get<string>('endpoint', '').trim(),
    otlpProtocol: (OTLP_PROTOCOLS as readonly string[]).includes(protocol) ? (protocol as OtlpProtocol) : 'grpc',
    chapterPatterns: Array.isArray(patterns) && patterns.length > 0 ? patterns : [...DEFAULT_CHAPTER_PATTERNS],
    userId: c.get<string>('userId', '').trim() || osUser(),
    injectIntoTerminals: c.get<boolean>('injectIntoTerminals', true),
    logUserPrompts: c.get<boolean>('logUserPrompts', false),
    sendFilePaths: c.get<boolean>('sendFilePaths', true),
    serverNodePath: c.get<string>('serverNodePath', '').trim(),
    enginePath: c.get<string>('enginePath', '').trim(),
    dataDir: c.get<string>('dataDir', '').trim(),
    docker: {
      clickhouseImage: c.get<string>('docker.clickhouseImage', '').trim(),
      collectorImage: c.get<string>('docker.collectorImage', '').trim(),
      projectName: c.get<string>('docker.projectName', '').trim(),
    },
  };
}
