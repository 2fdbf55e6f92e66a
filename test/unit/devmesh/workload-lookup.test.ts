// `ns/name` finds a Pod or ExternalWorkload, or the single Pod of a Deployment by its name.
import t from 'tap';
import { findWorkload } from '../../../src/devmesh/workload-lookup.js';
import { EW, POD, fakeSnapshot } from './helpers/fake-snapshot.js';

const deployed = { ...POD, name: 'legacy-app-78784c49cd-kmc2z' };

t.test('exact names, then a unique Deployment prefix', async (t) => {
  const s = fakeSnapshot({ workloads: [EW, POD, deployed] });
  t.equal(findWorkload(s, 'mixed-env/external-workload'), EW);
  t.equal(findWorkload(s, 'mixed-env/legacy-app-cluster'), POD, 'exact wins');
  t.equal(findWorkload(s, 'mixed-env/legacy-app'), undefined, 'two pods start with legacy-app-: ambiguous');
  t.equal(findWorkload(fakeSnapshot({ workloads: [EW, deployed] }), 'mixed-env/legacy-app'), deployed);
  t.equal(findWorkload(s, 'other/external-workload'), undefined);
  t.equal(findWorkload(s, 'external-workload'), undefined);
  t.equal(findWorkload(fakeSnapshot({ workloads: [EW] }), 'mixed-env/external'), undefined, 'prefixes only pick pods');
});
