import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildOtelEnv, encodeResourceValue, otlpEndpoint, parseResourceAttributes, resourceAttributes, sameEnv, MANAGED_ENV_KEYS,
} from '../../src/core/otel-env';

const base = { protocol: 'grpc' as const, host: '127.0.0.1', grpcPort: 4317, otlpHttpPort: 4318, userId: 'alice', logUserPrompts: false };

describe('buildOtelEnv', () => {
  test('grpc → gRPC port, all required variables', () => {
    const env = buildOtelEnv({ ...base, chapter: 'ch07', workspace: 'book' });
    assert.deepEqual(env, {
      CLAUDE_CODE_ENABLE_TELEMETRY: '1',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317',
      OTEL_METRIC_EXPORT_INTERVAL: '10000',
      OTEL_LOGS_EXPORT_INTERVAL: '5000',
      OTEL_RESOURCE_ATTRIBUTES: 'user_id=alice,chapter=ch07,workspace=book',
    });
    for (const k of Object.keys(env)) assert.ok((MANAGED_ENV_KEYS as readonly string[]).includes(k), k);
  });
  test('http/* → OTLP HTTP port; wildcard host → loopback', () => {
    assert.equal(buildOtelEnv({ ...base, protocol: 'http/protobuf', host: '0.0.0.0' }).OTEL_EXPORTER_OTLP_ENDPOINT, 'http://127.0.0.1:4318');
    assert.equal(buildOtelEnv({ ...base, protocol: 'http/json', otlpHttpPort: 9999 }).OTEL_EXPORTER_OTLP_ENDPOINT, 'http://127.0.0.1:9999');
    assert.equal(otlpEndpoint({ ...base, host: '::1' }), 'http://[::1]:4317');
  });
  test('explicit endpoint wins, trailing slash dropped', () => {
    assert.equal(otlpEndpoint({ ...base, endpoint: 'https://otel.example:4317/' }), 'https://otel.example:4317');
  });
  test('prompt logging only when opted in', () => {
    assert.equal(buildOtelEnv(base).OTEL_LOG_USER_PROMPTS, undefined);
    assert.equal(buildOtelEnv({ ...base, logUserPrompts: true }).OTEL_LOG_USER_PROMPTS, '1');
  });
  test('no chapter → no chapter attribute; deterministic', () => {
    assert.equal(buildOtelEnv(base).OTEL_RESOURCE_ATTRIBUTES, 'user_id=alice');
    assert.ok(sameEnv(buildOtelEnv(base), buildOtelEnv({ ...base })));
    assert.ok(!sameEnv(buildOtelEnv(base), buildOtelEnv({ ...base, chapter: 'x' })));
  });
});

describe('OTEL_RESOURCE_ATTRIBUTES encoding', () => {
  test('comma, equals, percent, space and non-ASCII are percent-encoded', () => {
    assert.equal(encodeResourceValue('a,b=c%d e'), 'a%2Cb%3Dc%25d%20e');
    assert.equal(encodeResourceValue('Kapitel 7 – Über'), 'Kapitel%207%20%E2%80%93%20%C3%9Cber');
    assert.equal(encodeResourceValue('07-some_title.v2'), '07-some_title.v2');
    assert.equal(encodeResourceValue('tab\there'), 'tab%09here');
  });
  test('round trip through a spec-style parser', () => {
    const attrs = { user_id: 'jean-luc=picard', chapter: 'ch 7, part 2', workspace: '100% Büch' };
    const s = resourceAttributes(attrs);
    assert.equal(s.split(',').length, 3);
    assert.ok(/^[\x21-\x7e]+$/.test(s), s);
    assert.deepEqual(parseResourceAttributes(s), attrs);
  });
});
