/**
 * What each team privacy level lets reach the team server's storage. The team server enforces it
 * (src/server/team/privacy.ts) whatever a client sends; the extension shows the same lists when an
 * author chooses a level ("Centralize Telemetry", step 3). Pure data + predicates, no I/O.
 *
 * Sources: the attribute catalogues of Claude Code 2.1.197 and 2.1.332 (../shared/reference/), the
 * extension's own chapter_focus record, and the OpenTelemetry semantic conventions for generic
 * content-carrying attributes (gen_ai messages, exception text).
 */

export type PrivacyLevel = 'all' | 'no-content' | 'aggregates-only';
export const PRIVACY_LEVELS: readonly PrivacyLevel[] = ['all', 'no-content', 'aggregates-only'];

/**
 * Attribute keys whose values are content an author wrote or a tool saw: prompt and response text,
 * error message text, tool inputs/parameters and shell commands, file paths. Dropped by
 * `no-content` (and never kept by `aggregates-only`). `*_length` / `*_size_bytes` siblings stay.
 */
export const CONTENT_ATTRIBUTES: readonly string[] = [
  // user_prompt event, interaction span
  'prompt', 'prompt_text', 'user_prompt',
  // assistant_response event
  'response',
  // tool_decision / tool_result events, tool spans
  'tool_parameters', 'tool_input', 'tool_output', 'tool_result', 'full_command', 'bash_argv0',
  // api_error / api_retries_exhausted / tool_result: the error message text
  'error',
  // chapter_focus: the workspace-relative file path
  'file',
  // OpenTelemetry conventions that carry content
  'exception.message', 'exception.stacktrace',
  'gen_ai.prompt', 'gen_ai.completion', 'gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.system_instructions',
];

const CONTENT_SET = new Set(CONTENT_ATTRIBUTES);

/**
 * Content by key shape too, so a new Claude Code version's `foo_prompt` or `bar.message` is not
 * stored under `no-content` before someone updates the list: keys ending in these words.
 */
export const CONTENT_SUFFIX_RE = /(^|[._])(prompt|prompt_text|response|input|output|parameters|command|message|messages|stacktrace|instructions|completion|error|path)$/;

export function isContentAttribute(key: string): boolean {
  return CONTENT_SET.has(key) || CONTENT_SUFFIX_RE.test(key);
}

/**
 * `aggregates-only`: the event attributes the daily / session / error / chapter aggregates are
 * computed from (telemetry-server/clickhouse/migrations 0002, 0004, 0005); everything else on a
 * log record is dropped, spans are not stored at all, metrics keep only their non-content attributes.
 */
export const AGGREGATE_EVENT_ATTRIBUTES: readonly string[] = [
  'event.name', 'event.timestamp', 'event.sequence', 'session.id', 'prompt.id', 'user_id', 'chapter', 'workspace',
  'model', 'cost_usd', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_creation_tokens', 'duration_ms',
  'status_code', 'error_type', 'attempt', 'total_attempts', 'success', 'tool_name', 'decision', 'terminal.type', 'app.version',
];

/** Resource attributes kept under `aggregates-only` (the author is stamped by the server). */
export const AGGREGATE_RESOURCE_ATTRIBUTES: readonly string[] = ['service.name', 'service.version', 'user_id', 'chapter', 'workspace'];

/** One sentence per level, for the author choosing one. */
export function describePrivacyLevel(level: PrivacyLevel): string {
  switch (level) {
    case 'all':
      return 'Everything Claude Code and the extension record (prompt text only if you opted in to recording it).';
    case 'no-content':
      return `Everything except content: no prompt or response text, error messages, tool inputs, commands or file paths (${CONTENT_ATTRIBUTES.join(', ')}).`;
    case 'aggregates-only':
      return `Only what daily and session totals need: event type and time, session, chapter, model, tokens, cost, status codes and error types (${AGGREGATE_EVENT_ATTRIBUTES.join(', ')}); no traces.`;
  }
}
