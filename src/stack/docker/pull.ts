/** Image pulls with one aggregated progress figure over all layers, cancellable with an AbortSignal. */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { StackError, type ProgressReport } from '../types';
import { pullError } from './errors';

interface PullEvent {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/** Layer bytes downloaded / total across the layers that need downloading (present layers do not count). */
export class LayerProgress {
  private layers = new Map<string, { current: number; total: number }>();

  update(ev: PullEvent): void {
    if (!ev.id || !ev.status) return;
    const layer = this.layers.get(ev.id) ?? { current: 0, total: 0 };
    if (ev.status === 'Downloading' && ev.progressDetail?.total) {
      layer.total = ev.progressDetail.total;
      layer.current = ev.progressDetail.current ?? layer.current;
    } else if (/^(Download complete|Verifying Checksum|Extracting|Pull complete)/.test(ev.status)) {
      layer.current = layer.total;
    } else if (!/^(Pulling fs layer|Waiting|Already exists)/.test(ev.status)) {
      return; // lines about the image as a whole (digest, status), not a layer
    }
    this.layers.set(ev.id, layer);
  }

  private shown = -1;

  /**
   * 0..99 while pulling (100 is reported by the caller once the pull has finished), or undefined
   * before any layer size is known. Never goes backwards: layers announced late would otherwise
   * pull the figure down.
   */
  percent(): number | undefined {
    let cur = 0;
    let tot = 0;
    for (const l of this.layers.values()) {
      if (l.total > 0) {
        cur += l.current;
        tot += l.total;
      }
    }
    if (tot === 0) return this.shown < 0 ? undefined : this.shown;
    this.shown = Math.max(this.shown, Math.min(99, Math.floor((cur / tot) * 100)));
    return this.shown;
  }

  get layerCount(): number {
    return this.layers.size;
  }
}

export async function imagePresent(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

export async function pullImage(
  docker: Docker,
  image: string,
  onProgress: (p: ProgressReport) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (signal?.aborted) throw cancelled(image);
  const progress = new LayerProgress();
  let stream: Readable;
  try {
    // dockerode resolves the Engine's HTTP response, a Readable (typed as the wider ReadableStream).
    stream = (await docker.pull(image, { abortSignal: signal })) as Readable;
  } catch (err) {
    if (signal?.aborted) throw cancelled(image);
    throw pullError(image, err);
  }
  onProgress({ message: `Downloading ${image}…`, percent: 0 });
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      stream.destroy();
      reject(cancelled(image));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    docker.modem.followProgress(
      stream,
      (err: Error | null, events: PullEvent[]) => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) return reject(cancelled(image));
        const failed = err ?? events?.find((e) => e.error);
        if (failed) return reject(pullError(image, (failed as PullEvent).error ? new Error((failed as PullEvent).error) : failed));
        resolve();
      },
      (ev: PullEvent) => {
        progress.update(ev);
        const percent = progress.percent();
        onProgress({
          message: `Downloading ${image}${percent === undefined ? '' : ` (${progress.layerCount} layers)`}…`,
          percent,
        });
      },
    );
  });
  onProgress({ message: `Downloaded ${image}.`, percent: 100 });
}

function cancelled(image: string): StackError {
  return new StackError('cancelled', `Download of ${image} cancelled.`, 'Start the stack again when you are ready; nothing was left behind.');
}
