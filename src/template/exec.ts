/**
 * The executor of Go's text/template (exec.go), walking the parse tree over the value model of
 * values.ts. Argument checking, missing-key handling, variable scoping and error texts follow
 * Go's; Go's reflect.Value distinctions that matter are kept: `undefined` is an invalid value,
 * `null` a nil interface, and a side flag (`iface`) remembers whether a value was read out of an
 * `interface{}` container, which Go reports as type `interface {}`.
 */
import { TemplateError } from './errors.js';
import { quote, sprint } from './fmt.js';
import {
  type ArgNode,
  type BranchNode,
  type ChainNode,
  type CommandNode,
  errorLocation,
  type FieldNode,
  type IdentifierNode,
  type ListNode,
  type Node,
  type NumberNode,
  nodeString,
  type PipeNode,
  type TemplateNode,
  type Tree,
  type VariableNode,
} from './parse.js';
import {
  elemTypeOf,
  float,
  GoChan,
  GoFloat,
  GoStruct,
  goTypeOf,
  hasKey,
  Kind,
  keyTypeOf,
  kindOf,
  methodsOf,
  sortedKeys,
  truth,
  underlyingTypeOf,
} from './values.js';

/**
 * A parameter type, spelled as Go's reflect prints it: `string`, `int`, `float64`, `bool`,
 * `[]string`, `map[string]interface {}`, `*dependency.KeyPair`…, plus two pseudo types:
 * `any` (interface{}: receives `null` for nil) and `value` (reflect.Value: receives the raw
 * value, `undefined` when invalid and `null` for a nil interface).
 */
export type ParamType = string;

export interface FuncSpec {
  params: ParamType[];
  /** Element type of a final variadic parameter. */
  variadic?: ParamType;
  /** Throw an Error to fail the template with `error calling NAME: MESSAGE`. */
  // biome-ignore lint/suspicious/noExplicitAny: functions receive values of the declared Go types
  fn: (...args: any[]) => unknown;
}

/** A function for templates: a spec, or a plain function taking any number of `any` arguments. */
export type TemplateFunc = FuncSpec | ((...args: unknown[]) => unknown);
export type FuncMap = Record<string, TemplateFunc>;

export type MissingKey = 'default' | 'zero' | 'error';

export function toSpec(f: TemplateFunc): FuncSpec {
  return typeof f === 'function' ? { params: [], variadic: 'any', fn: f } : f;
}

/** What execution needs from a parsed template set. */
export interface ExecEnv {
  trees: Map<string, Tree>;
  funcs: Map<string, FuncSpec>;
  builtins: Map<string, FuncSpec>;
  missingKey: MissingKey;
}

const MISSING: unique symbol = Symbol('missingVal');
type Final = unknown;

const BREAK = { walk: 'break' };
const CONTINUE = { walk: 'continue' };

function canBeNil(typ: ParamType): boolean {
  return (
    typ === 'any' ||
    typ === 'value' ||
    typ.startsWith('[]') ||
    typ.startsWith('map[') ||
    typ.startsWith('*') ||
    typ.startsWith('func')
  );
}

function zeroOf(typ: ParamType): unknown {
  if (typ === 'value') return undefined;
  if (canBeNil(typ)) return null;
  switch (typ) {
    case 'string':
      return '';
    case 'int':
    case 'int64':
      return 0;
    case 'float64':
      return new GoFloat(0);
    case 'bool':
      return false;
  }
  return null;
}

const MAX_EXEC_DEPTH = 100000;

/**
 * The most output one execution may write: 16 MiB (counted in UTF-16 units, bytes for ASCII). Config files stay
 * far below; a template that reaches it is a loop gone wrong (`range loop 100000` nested builds 10 GB), which
 * without a bound ran into V8's string limit after minutes at full CPU and close to a GB of memory. Rendering
 * holds tend's event loop, and a step of range costs ~0.25 µs: a byte a step stops within ~4 s at this bound
 * (64 MiB took 15 s under load).
 */
export const MAX_OUTPUT = 16 * 1024 * 1024;
const OUTPUT_LIMIT_TEXT = `output larger than ${MAX_OUTPUT / 1024 / 1024} MiB, the most a template may write`;

export class ExecState {
  out = '';
  node: Node | null = null;
  varNames: string[] = [];
  varValues: unknown[] = [];
  varIface: boolean[] = [];
  depth = 0;
  /** Whether the last field/variable evaluation produced a value held in an interface{}. */
  iface = false;
  lastTemplate: { node: TemplateNode; name: string } | null = null;

  constructor(
    readonly env: ExecEnv,
    public tmplName: string,
  ) {}

  // ---- errors ----
  at(node: Node): void {
    this.node = node;
  }

  errorf(msg: string): never {
    const name = this.tmplName;
    if (this.node === null) throw new TemplateError(`template: ${name}: ${msg}`, 'exec');
    const loc = errorLocation(this.node);
    throw new TemplateError(
      `template: ${loc}: executing ${quote(name)} at <${nodeString(this.node)}>: ${msg}`,
      'exec',
    );
  }

  /** Appends to the output, within MAX_OUTPUT. */
  write(text: string): void {
    if (this.out.length + text.length > MAX_OUTPUT) this.errorf(OUTPUT_LIMIT_TEXT);
    this.out += text;
  }

  // ---- variables ----
  push(name: string, value: unknown, iface: boolean): void {
    this.varNames.push(name);
    this.varValues.push(value);
    this.varIface.push(iface);
  }

  mark(): number {
    return this.varNames.length;
  }

  pop(mark: number): void {
    this.varNames.length = mark;
    this.varValues.length = mark;
    this.varIface.length = mark;
  }

  setVar(name: string, value: unknown): void {
    for (let i = this.varNames.length - 1; i >= 0; i--) {
      if (this.varNames[i] === name) {
        this.varValues[i] = value;
        this.varIface[i] = false;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  setTopVar(n: number, value: unknown, iface: boolean): void {
    const i = this.varNames.length - n;
    this.varValues[i] = value;
    this.varIface[i] = iface;
  }

  varValue(name: string): unknown {
    for (let i = this.varNames.length - 1; i >= 0; i--) {
      if (this.varNames[i] === name) {
        this.iface = this.varIface[i];
        return this.varValues[i];
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  // ---- walking ----
  walk(dot: unknown, dotIface: boolean, node: Node): void {
    this.node = node;
    switch (node.type) {
      case 'action': {
        const val = this.evalPipeline(dot, dotIface, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'text':
        this.write(node.text);
        return;
      case 'list': {
        const nodes = node.nodes;
        for (let i = 0; i < nodes.length; i++) this.walk(dot, dotIface, nodes[i]);
        return;
      }
      case 'if':
      case 'with':
        this.walkIfOrWith(node, dot, dotIface);
        return;
      case 'range':
        this.walkRange(node, dot, dotIface);
        return;
      case 'template':
        this.walkTemplate(node, dot, dotIface);
        return;
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'comment':
        return;
      default:
        this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  walkIfOrWith(node: BranchNode, dot: unknown, dotIface: boolean): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, dotIface, node.pipe);
      if (kindOf(val) === Kind.Other) this.errorf(`if/with can't use ${sprint([val])}`);
      if (truth(val)) {
        if (node.type === 'with') this.walk(val, false, node.list);
        else this.walk(dot, dotIface, node.list);
      } else if (node.elseList) this.walk(dot, dotIface, node.elseList);
    } finally {
      this.pop(mark);
    }
  }

  walkRange(r: BranchNode, dot: unknown, dotIface: boolean): void {
    this.at(r);
    const outer = this.mark();
    try {
      const val = this.evalPipeline(dot, dotIface, r.pipe);
      const mark = this.mark();
      const ndecl = r.pipe.decl.length;
      const one = (index: unknown, elem: unknown, elemIface: boolean): void => {
        if (ndecl > 0) this.setTopVar(1, elem, elemIface);
        if (ndecl > 1) this.setTopVar(2, index, false);
        try {
          this.walk(elem, elemIface, r.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        } finally {
          this.pop(mark);
        }
      };
      switch (kindOf(val)) {
        case Kind.Slice: {
          const a = val as unknown[];
          if (a.length === 0) break;
          const iface = elemTypeOf(a) === 'interface {}';
          for (let i = 0; i < a.length; i++) {
            const e = a[i];
            one(i, e === undefined ? null : e, iface);
          }
          return;
        }
        case Kind.Map: {
          const m = val as Record<string, unknown>;
          const keys = sortedKeys(m);
          if (keys.length === 0) break;
          const iface = elemTypeOf(m) === 'interface {}';
          const intKeys = keyTypeOf(m) === 'int';
          for (const k of keys) {
            const e = m[k];
            one(intKeys ? Number(k) : k, e === undefined ? null : e, iface);
          }
          return;
        }
        case Kind.Chan: {
          const c = val as GoChan;
          if (c.items.length === 0) break;
          for (let i = 0; i < c.items.length; i++) one(i, c.items[i], false);
          return;
        }
        case Kind.Invalid:
        case Kind.Nil:
          break;
        default:
          this.errorf(`range can't iterate over ${sprint([val])}`);
      }
      if (r.elseList) this.walk(dot, dotIface, r.elseList);
    } catch (e) {
      if (e !== BREAK) throw e;
    } finally {
      this.pop(outer);
    }
  }

  walkTemplate(t: TemplateNode, dot: unknown, dotIface: boolean): void {
    this.at(t);
    const tree = this.env.trees.get(t.name);
    if (!tree) this.errorf(`template ${quote(t.name)} not defined`);
    if (this.depth === MAX_EXEC_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    const newDot = this.evalPipeline(dot, dotIface, t.pipe);
    const saved = [this.varNames, this.varValues, this.varIface, this.tmplName] as const;
    this.lastTemplate = { node: t, name: this.tmplName };
    this.varNames = ['$'];
    this.varValues = [newDot];
    this.varIface = [false];
    this.tmplName = tree.name;
    this.depth++;
    try {
      this.walk(newDot, false, tree.root);
    } finally {
      this.depth--;
      [this.varNames, this.varValues, this.varIface, this.tmplName] = saved;
    }
  }

  // ---- evaluation ----
  evalPipeline(dot: unknown, dotIface: boolean, pipe: PipeNode | null): unknown {
    if (pipe === null) return undefined;
    this.at(pipe);
    let value: unknown = MISSING;
    const cmds = pipe.cmds;
    for (let i = 0; i < cmds.length; i++) {
      value = this.evalCommand(dot, dotIface, cmds[i], value);
      // Go unwraps interface values between commands ("lovely!"): a nil interface becomes invalid.
      if (value === null) value = undefined;
    }
    const decl = pipe.decl;
    for (let i = 0; i < decl.length; i++) {
      if (pipe.isAssign) this.setVar(decl[i].ident[0], value);
      else this.push(decl[i].ident[0], value, false);
    }
    return value;
  }

  notAFunction(args: ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING)
      this.errorf(`can't give argument to non-function ${nodeString(args[0])}`);
  }

  evalCommand(dot: unknown, dotIface: boolean, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0];
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, dotIface, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, dotIface, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, dotIface, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, dotIface, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.errorf('nil is not a command');
        break;
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
    this.errorf(`can't evaluate command ${quote(nodeString(first))}`);
  }

  idealConstant(n: NumberNode): unknown {
    this.at(n);
    if (n.isComplex) this.errorf('complex constants are not supported');
    const t = n.text;
    const isHexInt = t.length > 2 && t[0] === '0' && (t[1] === 'x' || t[1] === 'X') && !/[pP]/.test(t);
    const isRuneInt = t[0] === "'";
    if (n.isFloat && !isHexInt && !isRuneInt && /[.eEpP]/.test(t)) return float(n.float64);
    if (n.isInt) {
      const v = n.int64;
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    if (n.isUint) this.errorf(`${t} overflows int`);
    return undefined;
  }

  evalFieldNode(
    dot: unknown,
    dotIface: boolean,
    field: FieldNode,
    args: ArgNode[] | null,
    final: Final,
  ): unknown {
    this.at(field);
    return this.evalFieldChain(dot, dot, dotIface, field, field.ident, args, final);
  }

  evalChainNode(
    dot: unknown,
    dotIface: boolean,
    chain: ChainNode,
    args: ArgNode[] | null,
    final: Final,
  ): unknown {
    this.at(chain);
    if (chain.field.length === 0) this.errorf('internal error: no fields in evalChainNode');
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, dotIface, null, chain.node);
    // The base of a chain is a pipeline or a function result: never an interface{} any more.
    return this.evalFieldChain(dot, pipe, false, chain, chain.field, args, final);
  }

  evalVariableNode(dot: unknown, variable: VariableNode, args: ArgNode[] | null, final: Final): unknown {
    this.at(variable);
    const value = this.varValue(variable.ident[0]);
    if (variable.ident.length === 1) {
      if (args) this.notAFunction(args, final);
      else if (final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(variable)}`);
      return value;
    }
    return this.evalFieldChain(dot, value, this.iface, variable, variable.ident.slice(1), args, final);
  }

  evalFieldChain(
    dot: unknown,
    receiver: unknown,
    recvIface: boolean,
    node: Node,
    ident: string[],
    args: ArgNode[] | null,
    final: Final,
  ): unknown {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) {
      receiver = this.evalField(dot, ident[i], node, null, MISSING, receiver, recvIface);
      recvIface = this.iface;
    }
    return this.evalField(dot, ident[n - 1], node, args, final, receiver, recvIface);
  }

  evalField(
    dot: unknown,
    fieldName: string,
    node: Node,
    args: ArgNode[] | null,
    final: Final,
    receiver: unknown,
    recvIface: boolean,
  ): unknown {
    this.iface = false;
    if (receiver === undefined) {
      if (this.env.missingKey === 'error') this.errorf(`nil data; no entry for key ${quote(fieldName)}`);
      return undefined;
    }
    const typ = recvIface ? 'interface {}' : goTypeOf(receiver);
    if (receiver === null) this.errorf(`nil pointer evaluating ${typ}.${fieldName}`);
    const methods = methodsOf(receiver);
    if (methods && Object.hasOwn(methods, fieldName)) {
      return this.evalCall(dot, false, methods[fieldName], false, node, fieldName, args, final);
    }
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    if (receiver instanceof GoStruct) {
      if (hasKey(receiver.fields, fieldName)) {
        if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
        const v = receiver.fields[fieldName];
        return v === undefined ? null : v;
      }
    } else if (kindOf(receiver) === Kind.Map && keyTypeOf(receiver as object) === 'string') {
      const m = receiver as Record<string, unknown>;
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      const elem = elemTypeOf(m);
      if (hasKey(m, fieldName)) {
        const v = m[fieldName];
        this.iface = elem === 'interface {}';
        return v === undefined ? null : v;
      }
      switch (this.env.missingKey) {
        case 'zero':
          this.iface = elem === 'interface {}';
          return this.iface ? null : zeroOf(elem);
        case 'error':
          this.errorf(`map has no entry for key ${quote(fieldName)}`);
      }
      return undefined;
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${typ}`);
  }

  findFunction(name: string): [FuncSpec, boolean] | null {
    const f = this.env.funcs.get(name);
    if (f) return [f, false];
    const b = this.env.builtins.get(name);
    if (b) return [b, true];
    return null;
  }

  evalFunction(
    dot: unknown,
    dotIface: boolean,
    node: IdentifierNode,
    cmd: Node,
    args: ArgNode[] | null,
    final: Final,
  ): unknown {
    this.at(node);
    const name = node.ident;
    const found = this.findFunction(name);
    if (!found) this.errorf(`${quote(name)} is not a defined function`);
    return this.evalCall(dot, dotIface, found[0], found[1], cmd, name, args, final);
  }

  evalCall(
    dot: unknown,
    dotIface: boolean,
    spec: FuncSpec,
    isBuiltin: boolean,
    node: Node,
    name: string,
    args: ArgNode[] | null,
    final: Final,
  ): unknown {
    const argNodes = args ? args.slice(1) : [];
    const numIn = argNodes.length + (final !== MISSING ? 1 : 0);
    const params = spec.params;
    let numFixed = argNodes.length;
    if (spec.variadic !== undefined) {
      numFixed = params.length;
      if (numIn < numFixed) {
        this.errorf(
          `wrong number of args for ${name}: want at least ${params.length} got ${argNodes.length}`,
        );
      }
    } else if (numIn !== params.length) {
      this.errorf(`wrong number of args for ${name}: want ${params.length} got ${numIn}`);
    }

    if (isBuiltin && (name === 'and' || name === 'or')) {
      let v: unknown;
      for (const arg of argNodes) {
        v = this.evalArg(dot, dotIface, 'value', arg);
        if (truth(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }

    const argv: unknown[] = new Array(numIn);
    let i = 0;
    for (; i < numFixed && i < argNodes.length; i++)
      argv[i] = this.evalArg(dot, dotIface, params[i], argNodes[i]);
    if (spec.variadic !== undefined) {
      for (; i < argNodes.length; i++) argv[i] = this.evalArg(dot, dotIface, spec.variadic, argNodes[i]);
    }
    if (final !== MISSING) {
      let t: ParamType;
      if (spec.variadic !== undefined) t = numIn - 1 < numFixed ? params[numIn - 1] : spec.variadic;
      else t = params[params.length - 1];
      argv[i] = this.validateType(final, t);
    }
    let result: unknown;
    try {
      result = spec.fn(...argv);
    } catch (e) {
      // A TemplateError here comes from a nested execution (executeTemplate): Go wraps it too.
      if (e === BREAK || e === CONTINUE) throw e;
      if (e instanceof RangeError && /call stack/.test(e.message)) throw e;
      this.at(node);
      this.errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.iface = false;
    return result;
  }

  validateType(value: unknown, typ: ParamType | null): unknown {
    if (value === undefined) {
      if (typ === null) return undefined;
      if (canBeNil(typ)) return zeroOf(typ);
      this.errorf(`invalid value; expected ${typ}`);
    }
    if (typ === null || typ === 'value' || typ === 'any') return value;
    if (value === null) this.errorf(`wrong type for value; expected ${typ}; got interface {}`);
    const vt = goTypeOf(value);
    if (vt === typ) return typ === 'float64' ? (value instanceof GoFloat ? value.value : value) : value;
    if (typ === 'int64' && vt === 'int') return value;
    // A named slice or map type is assignable to its unnamed underlying type.
    if ((typ.startsWith('[]') || typ.startsWith('map[')) && underlyingTypeOf(value) === typ) return value;
    this.errorf(`wrong type for value; expected ${typ}; got ${vt}`);
  }

  evalArg(dot: unknown, dotIface: boolean, typ: ParamType | null, n: ArgNode): unknown {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, typ);
      case 'nil':
        if (typ !== null && canBeNil(typ)) return zeroOf(typ);
        this.errorf(`cannot assign nil to ${typ}`);
        break;
      case 'field': {
        const v = this.evalFieldNode(dot, dotIface, n, [n], MISSING);
        return this.validateType(v, typ);
      }
      case 'variable': {
        const v = this.evalVariableNode(dot, n, null, MISSING);
        return this.validateType(v, typ);
      }
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, dotIface, n), typ);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, dotIface, n, n, null, MISSING), typ);
      case 'chain': {
        const v = this.evalChainNode(dot, dotIface, n, null, MISSING);
        return this.validateType(v, typ);
      }
    }
    switch (typ) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        this.errorf(`expected bool; found ${nodeString(n)}`);
        break;
      case 'float64':
        if (n.type === 'number' && n.isFloat) return n.float64;
        this.errorf(`expected float; found ${nodeString(n)}`);
        break;
      case 'int':
      case 'int64':
        if (n.type === 'number' && n.isInt) {
          const v = n.int64;
          return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
        }
        this.errorf(`expected integer; found ${nodeString(n)}`);
        break;
      case 'uint':
        if (n.type === 'number' && n.isUint) return Number(n.int64);
        this.errorf(`expected unsigned integer; found ${nodeString(n)}`);
        break;
      case 'any':
      case 'value':
        return this.evalEmptyInterface(n);
      case 'string':
        if (n.type === 'string') return n.text;
        this.errorf(`expected string; found ${nodeString(n)}`);
        break;
    }
    this.errorf(`can't handle ${nodeString(n)} for arg of type ${typ}`);
  }

  evalEmptyInterface(n: ArgNode): unknown {
    this.at(n);
    switch (n.type) {
      case 'bool':
        return n.value;
      case 'number':
        return this.idealConstant(n);
      case 'string':
        return n.text;
    }
    this.errorf(`can't handle assignment of ${nodeString(n)} to empty interface argument`);
  }

  printValue(n: Node, v: unknown): void {
    this.at(n);
    if (v === undefined) {
      this.write('<no value>');
      return;
    }
    switch (typeof v) {
      case 'string':
        this.write(v);
        return;
      case 'function':
        this.errorf(`can't print ${nodeString(n)} of type ${goTypeOf(v)}`);
        break;
      case 'object':
        if (v instanceof GoChan) this.errorf(`can't print ${nodeString(n)} of type ${goTypeOf(v)}`);
    }
    this.write(sprint([v]));
  }
}

/** Run a tree; returns the output or throws TemplateError. */
export function executeTree(env: ExecEnv, tree: Tree | undefined, name: string, data: unknown): string {
  const s: ExecState = new ExecState(env, name);
  const dot = data === null ? undefined : data;
  s.push('$', dot, false);
  if (!tree) s.errorf(`${quote(name)} is an incomplete or empty template`);
  try {
    s.walk(dot, false, tree.root as ListNode);
  } catch (e) {
    if (e instanceof RangeError && /call stack/.test(e.message) && s.lastTemplate) {
      // JavaScript's stack ends long before Go's depth limit; report it the way Go would.
      s.tmplName = s.lastTemplate.name;
      s.node = s.lastTemplate.node;
      s.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    }
    // A function built a string (or list) larger than JavaScript holds: the template's doing, not tend's.
    if (e instanceof RangeError && /Invalid (string|array) length/.test(e.message))
      s.errorf(`a value larger than JavaScript can hold (${e.message})`);
    throw e;
  }
  return s.out;
}
