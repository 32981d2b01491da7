import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import type { ICrateValidation, ProvenanceService } from './model';

/**
 * The crate view's check by an independent validator (roc-validator, on the server, against
 * the genuine RO-Crate contexts served there): the button, then the verdict with the REQUIRED
 * issues listed and the RECOMMENDED checks missed.
 */
export function CrateValidation(props: {
  path: string;
  service: ProvenanceService;
  trans: TranslationBundle;
}): React.ReactElement {
  const { path, service, trans } = props;
  const [result, setResult] = React.useState<ICrateValidation | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [busy, setBusy] = React.useState(false);
  const controller = React.useRef<AbortController | null>(null);
  React.useEffect(() => () => controller.current?.abort(), []);

  const validate = async (): Promise<void> => {
    controller.current?.abort();
    const current = new AbortController();
    controller.current = current;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await service.validateCrate(path, current.signal));
    } catch (e) {
      if (!current.signal.aborted) {
        setError(e instanceof Error ? e.message : String(e));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="jp-EspriVre-provValidation">
      <button
        type="button"
        className="jp-mod-styled jp-EspriVre-provValidate"
        disabled={busy}
        onClick={() => void validate()}
      >
        {busy
          ? trans.__('Validating…')
          : trans.__('Validate against the RO-Crate profile')}
      </button>
      {error !== null && (
        <p className="jp-EspriVre-provValidationResult" data-passed="error">
          {trans.__('The crate could not be validated: %1', error)}
        </p>
      )}
      {result && (
        <div
          className="jp-EspriVre-provValidationResult"
          data-passed={result.passed ? 'yes' : 'no'}
        >
          <p>
            {result.passed
              ? trans.__(
                  'Valid: every REQUIRED check of %1 passes (roc-validator).',
                  result.profile
                )
              : trans.__(
                  'Not valid: %1 REQUIRED checks of %2 fail (roc-validator).',
                  result.required_count,
                  result.profile
                )}{' '}
            {trans.__(
              '%1 RECOMMENDED checks are not met.',
              result.recommended_count
            )}
          </p>
          {result.required.length > 0 && (
            <ul className="jp-EspriVre-provValidationIssues">
              {result.required.map((issue, i) => (
                <li key={i}>
                  <strong>{issue.check}</strong>: {issue.message}
                </li>
              ))}
            </ul>
          )}
          {result.recommended.length > 0 && (
            <details>
              <summary>{trans.__('RECOMMENDED checks not met')}</summary>
              <ul>
                {result.recommended.map(check => (
                  <li key={check}>{check}</li>
                ))}
              </ul>
            </details>
          )}
          <p className="jp-EspriVre-provValidationContexts">
            {trans.__('Contexts served: %1', result.contexts.join(', '))}
          </p>
        </div>
      )}
    </div>
  );
}
