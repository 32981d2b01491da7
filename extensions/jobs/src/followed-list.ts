import { ApiError, isAbortError } from '@espri-vre/core';
import * as React from 'react';
import type { JobService } from './service';

/**
 * What a section of the Jobs panel reads besides the job list (the schedules, the
 * pipeline runs), asked again as the panel refreshes, at most once per `interval` ms.
 * The panel asks for the jobs only while it is visible: the section follows those
 * refreshes and stops with them. A new `generation` reads at once (after a change made
 * here). `read` must keep its identity across renders (a module-level function).
 */
export function useFollowedList<T>(
  service: JobService,
  read: (service: JobService, signal: AbortSignal) => Promise<T>,
  interval: number,
  generation = 0
): { value: T | null; error: string } {
  const [value, setValue] = React.useState<T | null>(null);
  const [error, setError] = React.useState('');
  React.useEffect(() => {
    const controller = new AbortController();
    let last = 0;
    const load = (): void => {
      last = Date.now();
      read(service, controller.signal)
        .then(found => {
          setValue(found);
          setError('');
        })
        .catch(reason => {
          if (!isAbortError(reason)) {
            setError(describeError(reason));
          }
        });
    };
    load();
    const follow = (): void => {
      if (!service.loading && Date.now() - last >= interval) {
        load();
      }
    };
    service.changed.connect(follow);
    return () => {
      service.changed.disconnect(follow);
      controller.abort();
    };
  }, [service, read, interval, generation]);
  return { value, error };
}

/** What the user reads of a failed request: the server's sentence when it gave one. */
export function describeError(reason: unknown): string {
  if (reason instanceof ApiError) {
    return reason.detail;
  }
  return reason instanceof Error ? reason.message : String(reason);
}
