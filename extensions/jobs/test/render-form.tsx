import type { JobInfo } from '@espri-vre/core';
import type { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { render } from '@testing-library/react';
import * as React from 'react';
import { JobService } from '../src/service';
import { SubmitJobForm } from '../src/submit-form';

/**
 * The submission form for `hello.sh`, talking to the server of `serverSettings` (a
 * test's `JobsApiServer`), without presets: its node, and the jobs it reports
 * submitted.
 */
export function renderSubmitForm(serverSettings: ServerConnection.ISettings): {
  submitted: JobInfo[];
  container: HTMLElement;
} {
  const submitted: JobInfo[] = [];
  const { container } = render(
    <SubmitJobForm
      service={new JobService({ serverSettings })}
      trans={nullTranslator.load('espri_vre')}
      path="hello.sh"
      presets={[]}
      onSubmitted={job => submitted.push(job)}
    />
  );
  return { submitted, container };
}
