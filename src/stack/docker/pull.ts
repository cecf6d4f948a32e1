/** Image pulls with one aggregated progress figure over all layers, cancellable with an AbortSignal. */
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

/** Layer bytes done / total across every layer seen so far (layers already present count as done). */
export class LayerProgress {
  private layers = new Map<string, { current: number; total: number; done: boolean }>();

  update(ev: PullEvent): void {
    if (!ev.id || !ev.status) return;
    const layer = this.layers.get(ev.id) ?? { current: 0, total: 0, done: false };
    if (ev.status === 'Downloading' && ev.progressDetail?.total) {
      layer.total = ev.progressDetail.total;
      layer.current = ev.progressDetail.current ?? layer.current;
    } else if (/^(Download complete|Pull complete|Already exists|Extracting|Verifying Checksum)/.test(ev.status)) {
      layer.current = layer.total;
      layer.done = ev.status !== 'Extracting' || layer.done;
      if (/^(Pull complete|Already exists)/.test(ev.status)) layer.done = true;
    } else if (!/^Pulling fs layer|^Waiting/.test(ev.status)) {
      return; // digest/status lines about the image as a whole, not a layer
    }
    this.layers.set(ev.id, layer);
  }

  /** 0..100, or undefined before any size is known. */
  percent(): number | undefined {
    let cur = 0;
    let tot = 0;
    let known = false;
    for (const l of this.layers.values()) {
      if (l.total > 0) {
        known = true;
        cur += l.current;
        tot += l.total;
      } else if (l.done) {
        known = true;
      }
    }
    if (!known) return undefined;
    const allDone = [...this.layers.values()].every((l) => l.done);
    if (allDone) return 100;
    return tot > 0 ? Math.min(99, Math.floor((cur / tot) * 100)) : 0;
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
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.pull(image, { abortSignal: signal })) as NodeJS.ReadableStream;
  } catch (err) {
    if (signal?.aborted) throw cancelled(image);
    throw pullError(image, err);
  }
  onProgress({ message: `Downloading ${image}…`, percent: 0 });
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      (stream as unknown as { destroy?: () => void }).destroy?.();
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
