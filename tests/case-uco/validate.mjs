// Offline SHACL validation of CASE 1.4.0 / UCO 1.4.0 JSON-LD documents, the
// way ../shared/testdata/case-uco/README.md says case_validate does it:
// shapes are the 22 ontology files; the data graph is the document's
// triples plus the same ontology triples (so rdfs:subClassOf reaches
// sh:class and sh:targetClass); no network (a remote @context is refused,
// JSON-LD safe mode rejects terms the @context does not define); the 18
// TBox-review shapes of uco-owl.ttl are deactivated; SHACL-SPARQL runs
// (shacl-engine + Comunica); Infos are allowed, Warnings and Violations
// fail; an IRI under the UCO or CASE namespaces that the ontology does not
// define fails too (misspelt classes and properties pass SHACL otherwise).
//
// usage: node validate.mjs [--ontology DIR] [--json] FILE...
// Prints one summary line per file (and one line per problem); exit 0 when
// every file conforms, 1 when one does not, 2 on a usage or setup error.
import { readFileSync, readdirSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import jsonld from 'jsonld'
import N3 from 'n3'
import Validator from 'shacl-engine/Validator.js'
import { targetResolvers } from 'shacl-engine/sparql.js'
import { select } from 'shacl-engine/lib/sparql.js'
import { compileSparql } from 'shacl-engine/lib/validations/sparql.js'

const { DataFactory, Store, Parser } = N3
const { namedNode, literal } = DataFactory

const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#'
const RDFS = 'http://www.w3.org/2000/01/rdf-schema#'
const OWL = 'http://www.w3.org/2002/07/owl#'
const SH = 'http://www.w3.org/ns/shacl#'
const XSD = 'http://www.w3.org/2001/XMLSchema#'
const GUARDED = ['https://ontology.unifiedcyberontology.org/',
  'https://ontology.caseontology.org/']
const OWL_SHAPES = 'https://ontology.unifiedcyberontology.org/owl/'
const TBOX_SHAPES = ['DataOneOf-shape',
  'DatatypeProperty-shacl-constraints-shape', 'Disjointedness-AP-DP-shape',
  'Disjointedness-AP-OP-shape', 'Disjointedness-C-DT-shape',
  'Disjointedness-DP-OP-shape', 'ObjectProperty-shacl-constraints-shape',
  'Sequence-shape', 'disjointUnionOf-subjects-shape',
  'hasKey-subjects-shape', 'intersectionOf-subjects-shape',
  'onProperties-subjects-shape', 'oneOf-subjects-shape',
  'ontologyIRI-versionIRI-prerequisite-shape',
  'propertyChainAxiom-subjects-shape', 'unionOf-subjects-shape',
  'versionIRI-nodeKind-shape', 'withRestrictions-subjects-shape']
// What makes an IRI "defined" by the ontology (case_validate's list).
const DEFINING_TYPES = [OWL + 'Class', OWL + 'ObjectProperty',
  OWL + 'DatatypeProperty', OWL + 'AnnotationProperty', RDFS + 'Datatype',
  SH + 'NodeShape', SH + 'PropertyShape', SH + 'Shape']

const here = dirname(fileURLToPath(import.meta.url))
const defaultOntology = join(here, '..', '..', '..', 'shared', 'testdata',
  'case-uco', 'ontology')

// The SHACL engine wants a factory that also makes datasets.
const factory = { ...DataFactory, dataset: quads => new Store(quads || []) }

// The data graph as a plain RDF/JS DatasetCore whose match() gives an array.
// n3's Store.match() returns an object that is a dataset and a stream at
// once; shacl-engine hands it to Readable.from(), which takes the stream
// side, and with Comunica some of those streams never end (the run stops
// with the event loop empty and a query unanswered).
// An array of quads that also answers .size (sh:disjoint asks for it).
class Matches extends Array {
  get size () { return this.length }
}

class DataGraph {
  constructor (quads) { this.store = new Store(quads) }
  get size () { return this.store.size }
  add (q) { this.store.addQuad(q); return this }
  delete (q) { this.store.removeQuad(q); return this }
  has (q) { return this.store.has(q) }
  match (s, p, o, g) { return Matches.from(this.store.getQuads(s, p, o, g)) }
  [Symbol.iterator] () { return this.store.getQuads()[Symbol.iterator]() }
}

function loadOntology (dir) {
  const files = readdirSync(dir).filter(f => f.endsWith('.ttl')).sort()
  if (files.length === 0) throw new Error(`no .ttl files in ${dir}`)
  const quads = []
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8')
    quads.push(...new Parser({ baseIRI: 'file:///' + f }).parse(text))
  }
  return { files, quads }
}

// Comunica refuses "SELECT $this ?value ... GROUP BY ?value" (UCO's two
// dictionary key checks) when $this comes as an initial binding.  For those
// queries the focus node goes into the query text instead (as pySHACL
// does): VALUES $this { <focus> } and GROUP BY $this ?value, which mean the
// same for one focus node.  A blank focus node cannot be written into a
// query; it is already a Violation (a UcoThing must not be blank).
const SH_SELECT = namedNode(SH + 'select')
const SH_MESSAGE = namedNode(SH + 'message')
const SH_SPARQL_COMPONENT = namedNode(SH + 'SPARQLConstraintComponent')

function groupedSparql (shape) {
  const text = shape.sparql.out([SH_SELECT]).value
  if (!text || !/GROUP BY/.test(text)) return compileSparql(shape)
  const message = shape.sparql.out([SH_MESSAGE]).terms
  const source = shape.sparql.terms
  return {
    generic: async context => {
      const focus = context.focusNode.term
      if (focus.termType !== 'NamedNode') return
      const query = text
        .replace(/WHERE\s*\{/, `WHERE { VALUES $this { <${focus.value}> }`)
        .replace(/GROUP BY \?value/g, 'GROUP BY $this ?value')
      const rows = await select({ bindings: [], dataset:
        context.focusNode.dataset, factory: context.factory, query })
      for (const row of rows) {
        const value = context.focusNode.node([row.get('value') || focus])
        context.violation(SH_SPARQL_COMPONENT, { args: {}, message, source,
          value })
      }
    }
  }
}
const offlineValidations = new Map([[namedNode(SH + 'sparql'), groupedSparql]])

function shapesGraph (ontology) {
  const store = new Store(ontology.quads)
  const t = literal('true', namedNode(XSD + 'boolean'))
  for (const name of TBOX_SHAPES)
    store.addQuad(namedNode(OWL_SHAPES + name), namedNode(SH + 'deactivated'), t)
  return store
}

function definedIris (ontology) {
  const defined = new Set()
  for (const q of ontology.quads) {
    if (q.predicate.value === RDF + 'type' &&
        (DEFINING_TYPES.includes(q.object.value) ||
         q.object.value === OWL + 'Ontology'))
      defined.add(q.subject.value)
    if (q.predicate.value === OWL + 'versionIRI')
      defined.add(q.object.value)
  }
  return defined
}

// No network, ever: every remote document (a remote @context) is refused.
async function refuseLoader (url) {
  throw new Error(`refusing to load a remote document: ${url}`)
}

async function documentQuads (path) {
  const doc = JSON.parse(readFileSync(path, 'utf8'))
  const nquads = await jsonld.toRDF(doc, {
    format: 'application/n-quads', safe: true, documentLoader: refuseLoader
  })
  return new Parser({ format: 'N-Quads' }).parse(nquads)
}

function shortTerm (t) {
  if (!t) return '-'
  return t.termType === 'BlankNode' ? '_:' + t.value : t.value
}

function unknownConcepts (quads, defined) {
  const unknown = new Set()
  const look = t => {
    if (t.termType === 'Literal') t = t.datatype
    if (t.termType !== 'NamedNode') return
    if (GUARDED.some(g => t.value.startsWith(g)) && !defined.has(t.value))
      unknown.add(t.value)
  }
  for (const q of quads) { look(q.subject); look(q.predicate); look(q.object) }
  return [...unknown].sort()
}

async function validateFile (path, ctx) {
  const started = process.hrtime.bigint()
  const out = { file: path, conforms: false, violations: 0, warnings: 0,
    infos: 0, unknown: [], problems: [], error: null }
  let quads
  try {
    quads = await documentQuads(path)
  } catch (e) {
    out.error = `not usable JSON-LD: ${e.message.split('\n')[0]}`
    out.ms = Number(process.hrtime.bigint() - started) / 1e6
    return out
  }
  const data = new DataGraph(ctx.ontology.quads.concat(quads))
  const report = await ctx.validator.validate({ dataset: data })
  for (const r of report.results) {
    const sev = r.severity.value.slice(SH.length)
    if (sev === 'Violation') out.violations++
    else if (sev === 'Warning') out.warnings++
    else out.infos++
    const msg = r.message.map(m => m.value).join(' ').replace(/\s+/g, ' ')
    out.problems.push(`${sev}: ${shortTerm(r.focusNode?.term)}` +
      (r.path && r.path.length ? ` ${r.path.map(s => s.predicates.map(
        p => p.value).join('|')).join('/')}` : '') +
      (r.value?.term ? ` value ${shortTerm(r.value.term)}` : '') +
      (msg ? `: ${msg}` : ''))
  }
  out.unknown = unknownConcepts(quads, ctx.defined)
  for (const u of out.unknown)
    out.problems.push(`Unknown: ${u} is not defined by CASE/UCO 1.4.0`)
  out.conforms = out.violations === 0 && out.warnings === 0 &&
    out.unknown.length === 0
  out.ms = Number(process.hrtime.bigint() - started) / 1e6
  return out
}

export async function makeContext (ontologyDir = defaultOntology) {
  const ontology = loadOntology(ontologyDir)
  const validator = new Validator(shapesGraph(ontology), {
    factory, targetResolvers, validations: offlineValidations
  })
  return { ontology, validator, defined: definedIris(ontology) }
}

export { validateFile }

function summary (r) {
  if (r.error) return `${r.file}: REJECTED: ${r.error}`
  return `${r.file}: ${r.conforms ? 'CONFORMS' : 'DOES NOT CONFORM'} ` +
    `(${r.violations} violations, ${r.warnings} warnings, ${r.infos} ` +
    `infos, ${r.unknown.length} unknown concepts; ${r.ms.toFixed(0)} ms)`
}

async function main (argv) {
  let ontologyDir = defaultOntology
  let asJson = false
  const files = []
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--ontology' && i + 1 < argv.length) ontologyDir = argv[++i]
    else if (argv[i] === '--json') asJson = true
    else if (argv[i].startsWith('--')) return usage()
    else files.push(argv[i])
  }
  if (files.length === 0) return usage()
  const t0 = process.hrtime.bigint()
  let ctx
  try {
    ctx = await makeContext(ontologyDir)
  } catch (e) {
    console.error(`validate.mjs: cannot load the ontology: ${e.message}`)
    return 2
  }
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6
  if (!asJson)
    console.log(`ontology: ${ctx.ontology.files.length} files, ` +
      `${ctx.ontology.quads.length} triples, ${loadMs.toFixed(0)} ms`)
  let bad = 0
  const all = []
  for (const f of files) {
    let r
    try {
      r = await validateFile(f, ctx)
    } catch (e) {
      r = { file: f, error: e.message.split('\n')[0], conforms: false }
    }
    if (!r.conforms) bad++
    all.push(r)
    if (!asJson) {
      console.log(summary(r))
      for (const p of r.problems || []) console.log(`  ${p}`)
    }
  }
  if (asJson) console.log(JSON.stringify(all.map(r => ({ ...r })), null, 1))
  return bad ? 1 : 0
}

function usage () {
  console.error('usage: node validate.mjs [--ontology DIR] [--json] FILE...')
  return 2
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // A run that ends without finishing (a query stream that never ends)
  // must not look like success.
  process.exitCode = 2
  main(process.argv.slice(2)).then(rc => { process.exitCode = rc },
    e => { console.error(`validate.mjs: ${e.stack || e}`); process.exitCode = 2 })
}
