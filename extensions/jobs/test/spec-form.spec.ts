import { nullTranslator } from '@jupyterlab/translation';
import { describe, expect, it } from 'vitest';
import {
  applyPreset,
  emptyForm,
  formatParameters,
  formToSpec,
  type IJobPreset,
  jobKind,
  parseParameters,
  presetsFor,
  problemsByField,
  specToForm
} from '../src/spec-form';

const trans = nullTranslator.load('espri_vre');

const STUDENT: IJobPreset = {
  name: 'TP: 1 GPU, 30 min',
  cluster: 'gpu-slurm',
  partition: 'debug',
  cpus: 2,
  memory: '4G',
  walltime: '00:30:00',
  gpus: 1
};
const SMALL: IJobPreset = { name: 'Small', cpus: 1, walltime: '10' };

describe('jobKind', () => {
  it('runs .sh as a script, .py as Python and .ipynb as a notebook', () => {
    expect(jobKind('run/hello.sh')).toBe('script');
    expect(jobKind('analysis.PY')).toBe('python');
    expect(jobKind('course/TP1.ipynb')).toBe('notebook');
    expect(jobKind('data.nc')).toBeNull();
    expect(jobKind('')).toBeNull();
  });
});

describe('formToSpec', () => {
  it('sends only the fields given, with counts as numbers', () => {
    const form = {
      ...emptyForm('scripts/hello.sh', 'local'),
      name: ' hello ',
      cpus: '2',
      walltime: '00:05:00'
    };
    expect(formToSpec(form, trans)).toEqual({
      spec: {
        kind: 'script',
        path: 'scripts/hello.sh',
        cluster: 'local',
        name: 'hello',
        cpus: 2,
        walltime: '00:05:00'
      },
      problems: []
    });
  });

  it('gives a notebook its parameters', () => {
    const form = {
      ...emptyForm('TP1.ipynb', 'gpu-slurm'),
      gpus: '1',
      parameters:
        'alpha=0.5\nmodel=IPSL-CM6A-LR\n\n# a comment\nyears=[1990, 2000]'
    };
    expect(formToSpec(form, trans).spec).toEqual({
      kind: 'notebook',
      path: 'TP1.ipynb',
      cluster: 'gpu-slurm',
      gpus: 1,
      parameters: { alpha: 0.5, model: 'IPSL-CM6A-LR', years: [1990, 2000] }
    });
  });

  it('leaves parameters out of a script job', () => {
    const form = { ...emptyForm('a.py', 'local'), parameters: 'x=1' };
    expect(formToSpec(form, trans).spec).toEqual({
      kind: 'python',
      path: 'a.py',
      cluster: 'local'
    });
  });

  it('names every wrong field and gives no spec', () => {
    const form = {
      ...emptyForm('data.nc', ''),
      nodes: 'two',
      gpus: '-1'
    };
    expect(formToSpec(form, trans)).toEqual({
      spec: null,
      problems: [
        {
          field: 'path',
          message:
            'A job runs a shell script (.sh), a Python file (.py) or a notebook (.ipynb).'
        },
        { field: 'cluster', message: 'Choose a cluster.' },
        { field: 'nodes', message: 'two is not a whole number.' },
        { field: 'gpus', message: '-1 is not a whole number.' }
      ]
    });
  });

  it('asks for a file when none is given', () => {
    expect(formToSpec(emptyForm('  ', 'local'), trans).problems).toEqual([
      {
        field: 'path',
        message: 'Give the script, Python file or notebook to run.'
      }
    ]);
  });
});

describe('parseParameters', () => {
  it('reads JSON values as JSON and the rest as text', () => {
    expect(
      parseParameters(
        'n = 3\nflag=true\nname="quoted"\nraw=tas_day\nempty=',
        trans
      )
    ).toEqual({
      parameters: {
        n: 3,
        flag: true,
        name: 'quoted',
        raw: 'tas_day',
        empty: ''
      },
      problems: []
    });
  });

  it('refuses a line without a Python name before =', () => {
    expect(parseParameters('ok=1\n2x=3\nno equals', trans).problems).toEqual([
      {
        field: 'parameters',
        message: 'Line 2 is not name=value with a Python name: 2x=3'
      },
      {
        field: 'parameters',
        message: 'Line 3 is not name=value with a Python name: no equals'
      }
    ]);
  });

  it('reads back what formatParameters writes', () => {
    const parameters = { alpha: 0.5, model: 'CNRM-CM6-1', years: [1, 2] };
    expect(
      parseParameters(formatParameters(parameters), trans).parameters
    ).toEqual(parameters);
  });
});

describe('presets', () => {
  it('offers a preset for its own cluster and presets naming none', () => {
    expect(presetsFor([STUDENT, SMALL], 'gpu-slurm')).toEqual([STUDENT, SMALL]);
    expect(presetsFor([STUDENT, SMALL], 'local')).toEqual([SMALL]);
  });

  it('fills the resources and cluster from a preset, emptying what it leaves out', () => {
    const form = {
      ...emptyForm('TP1.ipynb', 'local'),
      name: 'tp1',
      nodes: '4',
      parameters: 'a=1'
    };
    expect(applyPreset(form, STUDENT)).toEqual({
      cluster: 'gpu-slurm',
      path: 'TP1.ipynb',
      name: 'tp1',
      partition: 'debug',
      nodes: '',
      cpus: '2',
      memory: '4G',
      walltime: '00:30:00',
      gpus: '1',
      parameters: 'a=1',
      account: '',
      array: '',
      afterok: '',
      conda_env: '',
      kernel: '',
      mail_address: '',
      mail_when: 'end'
    });
    expect(applyPreset(form, SMALL).cluster).toBe('local');
  });
});

describe('specToForm', () => {
  it('gives back the form a spec came from', () => {
    const form = {
      ...emptyForm('TP1.ipynb', 'gpu-slurm'),
      name: 'tp1',
      partition: 'debug',
      gpus: '1',
      memory: '4G',
      parameters: 'alpha=0.5\nmodel=IPSL',
      account: 'climate',
      array: '0-9%2',
      afterok: '1234, 1235',
      conda_env: 'pangeo',
      kernel: 'python3'
    };
    const { spec } = formToSpec(form, trans);
    expect(spec).toMatchObject({
      account: 'climate',
      array: '0-9%2',
      afterok: ['1234', '1235'],
      conda_env: 'pangeo',
      kernel: 'python3'
    });
    expect(specToForm(spec!, 'local')).toEqual(form);
  });

  it('sends no kernel for a script, and splits dependencies on commas or spaces', () => {
    const { spec } = formToSpec(
      {
        ...emptyForm('run.sh', 'slurm'),
        kernel: 'python3',
        afterok: ' 11 12,13 '
      },
      trans
    );
    expect(spec?.kernel).toBeUndefined();
    expect(spec?.afterok).toEqual(['11', '12', '13']);
  });
});

describe('problemsByField', () => {
  it('groups the server’s problems by field, in order', () => {
    const byField = problemsByField([
      { field: 'gpus', message: 'partition debug has 2 GPUs; 4 asked' },
      { field: 'name', message: 'the name holds a space' },
      { field: 'gpus', message: 'GPUs must be at least 0' }
    ]);
    expect([...byField]).toEqual([
      [
        'gpus',
        ['partition debug has 2 GPUs; 4 asked', 'GPUs must be at least 0']
      ],
      ['name', ['the name holds a space']]
    ]);
  });
});
