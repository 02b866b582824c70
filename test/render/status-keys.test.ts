/** What a running tend says of each template: the keys and prefixes its last render read (never their values). */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { cleanup, project, upIn } from './harness.js';

afterEach(cleanup);

describe('render status', () => {
  it('names the keys and prefixes each template read, for the dashboard and tend status', async () => {
    const dir = project({
      'kv/db/host': 'db1',
      'kv/db/password': 'hunter2',
      'kv/feature/a': 'on',
      'app.tmpl': '{{ key "db/host" }} {{ range ls "feature" }}{{ .Key }}{{ end }}\n',
      'tend.yaml': `kv: file:./kv
services:
  web:
    command: exec sleep 600
    templates:
      - { source: app.tmpl, destination: etc/app.conf }
`,
    });
    const t = await upIn(dir);
    await waitFor(() => t.rt.renderStatus()?.templates[0]?.state === 'rendered', { what: 'rendered' });
    const [tpl] = t.rt.renderStatus()!.templates;
    expect(tpl.keys).toEqual(['db/host', 'prefix:feature']);
    expect(JSON.stringify(t.rt.renderStatus())).not.toContain('hunter2');
  });
});
