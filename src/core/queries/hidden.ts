import { WINDOW_AND_USER, filterParams } from './filter';
import { bind, type BoundQuery, type Filter } from './types';

/**
 * What an "only this author" filter hides: the other authors' requests and errors in the same window.
 * A view shows it ("12 requests by other authors hidden") so a store that holds somebody else's rows
 * (a CLI run with another user_id, a shared machine) never looks empty. Only meaningful for scope "me".
 */
export interface HiddenRowsRow {
  requests: number;
  errors: number;
  authors: number;
}
export function hiddenByAuthor(f: Filter): BoundQuery<HiddenRowsRow> {
  // The window fragment is reused with its author test turned round: rows NOT by the chosen author.
  const where = WINDOW_AND_USER.replace(`({user:String} = '' OR user_id = {user:String})`, `user_id != {user:String}`);
  return bind('scope.hidden', `SELECT toFloat64(countIf(event_type = 'api_request')) AS requests,
  toFloat64(countIf(event_type = 'api_error')) AS errors,
  toFloat64(uniqExact(user_id)) AS authors
FROM telemetry_events
WHERE event_type IN ('api_request', 'api_error') AND ${where}`, filterParams(f));
}
