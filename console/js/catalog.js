// The operator catalog (datastores, flavors, configuration groups), fetched once per session.
import { trove } from './api.js';

let cache = null;

export function catalog() {
  cache ??= Promise.all([
    trove('/datastores').then((body) => body.datastores),
    trove('/flavors').then((body) => body.flavors),
  ]).then(([datastores, flavors]) => ({ datastores, flavors }))
    .catch((error) => { cache = null; throw error; });
  return cache;
}

export function forgetCatalog() { cache = null; }

export function flavorById(flavors, id) {
  return flavors.find((flavor) => String(flavor.str_id) === String(id) || String(flavor.id) === String(id));
}

/** Flavors smallest first. */
export function sortedFlavors(flavors) {
  return [...flavors].sort((a, b) => a.ram - b.ram || a.vcpus - b.vcpus || a.disk - b.disk);
}

/** The options of a datastore select: one per active version, value "type|version". */
export function datastoreOptions(datastores, h) {
  return datastores.map((datastore) => h('optgroup', { label: datastore.name },
    datastore.versions.filter((version) => version.active !== false).map((version) => h('option', {
      value: `${datastore.name}|${version.name}`,
      selected: version.id === datastore.default_version,
    }, `${datastore.name} ${version.name}`))));
}

export const isPostgres = (type) => /postgres/i.test(type ?? '');
