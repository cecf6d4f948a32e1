/**
 * VS Code's progress notification moves its bar only forward, by increments, while our tasks report
 * absolute percents. One tracker per notification turns the one into the other. A percent lower than the
 * last one (a new docker pull starting again) counts from 0 again: the bar cannot go back, it moves on.
 */
export function progressIncrements(): (percent: number | undefined) => number | undefined {
  let shown = 0;
  return (percent) => {
    if (percent === undefined) return undefined;
    if (percent < shown) shown = 0;
    const increment = percent > shown ? percent - shown : undefined;
    shown = percent;
    return increment;
  };
}
