/**
 * The parser of Go's text/template (package text/template/parse), producing the same tree and
 * the same error texts. One parse() yields a set of named trees: the top-level one plus every
 * {{define}} and {{block}}.
 */
import { TemplateError } from './errors.js';
import { quote } from './fmt.js';
import { type Item, Lexer, T } from './lex.js';
import { byteLength } from './values.js';

/** The text a node came from, for Go-style `NAME:LINE:COL` locations. */
export interface Src {
  readonly name: string;
  readonly text: string;
}

interface Base {
  pos: number;
  src: Src;
}

export interface ListNode extends Base {
  type: 'list';
  nodes: Node[];
}
export interface TextNode extends Base {
  type: 'text';
  text: string;
}
export interface CommentNode extends Base {
  type: 'comment';
  text: string;
}
export interface ActionNode extends Base {
  type: 'action';
  pipe: PipeNode;
}
export interface PipeNode extends Base {
  type: 'pipe';
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}
export interface CommandNode extends Base {
  type: 'command';
  args: ArgNode[];
}
export interface IdentifierNode extends Base {
  type: 'identifier';
  ident: string;
}
export interface VariableNode extends Base {
  type: 'variable';
  ident: string[];
}
export interface DotNode extends Base {
  type: 'dot';
}
export interface NilNode extends Base {
  type: 'nil';
}
export interface FieldNode extends Base {
  type: 'field';
  ident: string[];
}
export interface ChainNode extends Base {
  type: 'chain';
  node: ArgNode;
  field: string[];
}
export interface BoolNode extends Base {
  type: 'bool';
  value: boolean;
}
export interface NumberNode extends Base {
  type: 'number';
  isInt: boolean;
  isUint: boolean;
  isFloat: boolean;
  isComplex: boolean;
  int64: bigint;
  float64: number;
  text: string;
}
export interface StringNode extends Base {
  type: 'string';
  quoted: string;
  text: string;
}
export interface EndNode extends Base {
  type: 'end';
}
export interface ElseNode extends Base {
  type: 'else';
}
export interface BranchNode extends Base {
  type: 'if' | 'range' | 'with';
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | null;
}
export interface BreakNode extends Base {
  type: 'break';
}
export interface ContinueNode extends Base {
  type: 'continue';
}
export interface TemplateNode extends Base {
  type: 'template';
  name: string;
  pipe: PipeNode | null;
}

export type ArgNode =
  | IdentifierNode
  | VariableNode
  | DotNode
  | NilNode
  | FieldNode
  | ChainNode
  | BoolNode
  | NumberNode
  | StringNode
  | PipeNode;

export type Node =
  | ListNode
  | TextNode
  | CommentNode
  | ActionNode
  | PipeNode
  | CommandNode
  | ArgNode
  | EndNode
  | ElseNode
  | BranchNode
  | BreakNode
  | ContinueNode
  | TemplateNode;

export interface Tree {
  name: string;
  root: ListNode;
  src: Src;
}

/** Go's Node.String(), used in execution error contexts. */
export function nodeString(n: Node): string {
  switch (n.type) {
    case 'list':
      return n.nodes.map(nodeString).join('');
    case 'text':
      return n.text;
    case 'comment':
      return '{{' + n.text + '}}';
    case 'action':
      return '{{' + nodeString(n.pipe) + '}}';
    case 'pipe': {
      let s = '';
      if (n.decl.length > 0) s = n.decl.map(nodeString).join(', ') + ' := ';
      return s + n.cmds.map(nodeString).join(' | ');
    }
    case 'command':
      return n.args.map((a) => (a.type === 'pipe' ? '(' + nodeString(a) + ')' : nodeString(a))).join(' ');
    case 'identifier':
      return n.ident;
    case 'variable':
      return n.ident.join('.');
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'field':
      return n.ident.map((id) => '.' + id).join('');
    case 'chain': {
      const base = n.node.type === 'pipe' ? '(' + nodeString(n.node) + ')' : nodeString(n.node);
      return base + n.field.map((f) => '.' + f).join('');
    }
    case 'bool':
      return n.value ? 'true' : 'false';
    case 'number':
      return n.text;
    case 'string':
      return n.quoted;
    case 'end':
      return '{{end}}';
    case 'else':
      return '{{else}}';
    case 'if':
    case 'range':
    case 'with': {
      let s = '{{' + n.type + ' ' + nodeString(n.pipe) + '}}' + nodeString(n.list);
      if (n.elseList) s += '{{else}}' + nodeString(n.elseList);
      return s + '{{end}}';
    }
    case 'break':
      return '{{break}}';
    case 'continue':
      return '{{continue}}';
    case 'template':
      return '{{template ' + quote(n.name) + (n.pipe ? ' ' + nodeString(n.pipe) : '') + '}}';
  }
}

/** Go's ErrorContext: "NAME:LINE:COL" with COL a byte offset (0-based after the first line). */
export function errorLocation(n: Node): string {
  const text = n.src.text.slice(0, n.pos);
  const nl = text.lastIndexOf('\n');
  let col: number;
  if (nl === -1) col = byteLength(text);
  else col = byteLength(text.slice(nl + 1));
  let line = 1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return `${n.src.name}:${line}:${col}`;
}

function itemString(i: Item): string {
  if (i.typ === T.EOF) return 'EOF';
  if (i.typ === T.Error) return i.val;
  if (i.typ > T.Keyword) return `<${i.val}>`;
  const runes = Array.from(i.val);
  if (runes.length > 10) return quote(runes.slice(0, 10).join('')) + '...';
  return quote(i.val);
}

export interface ParseOptions {
  leftDelim?: string;
  rightDelim?: string;
  /** Names a template may call; parse fails on any other identifier, as in Go. */
  hasFunction: (name: string) => boolean;
}

interface Shared {
  items: Item[];
  idx: number;
  src: Src;
  treeSet: Map<string, Tree>;
  hasFunction: (name: string) => boolean;
}

class TreeParser {
  name: string;
  root: ListNode | null = null;
  token: Item[] = [];
  peekCount = 0;
  vars: string[] = ['$'];
  actionLine = 0;
  rangeDepth = 0;

  constructor(
    name: string,
    readonly sh: Shared,
  ) {
    this.name = name;
  }

  // ---- token stream, with Go's three-token lookahead ----
  nextItem(): Item {
    const sh = this.sh;
    const it = sh.items[sh.idx];
    if (sh.idx < sh.items.length - 1) sh.idx++;
    return it;
  }

  next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.nextItem();
    return this.token[this.peekCount];
  }

  backup(): void {
    this.peekCount++;
  }

  backup2(t1: Item): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }

  backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }

  peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1];
    this.peekCount = 1;
    this.token[0] = this.nextItem();
    return this.token[0];
  }

  nextNonSpace(): Item {
    let token: Item;
    do token = this.next();
    while (token.typ === T.Space);
    return token;
  }

  peekNonSpace(): Item {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }

  errorf(msg: string): never {
    const line = this.token[0] ? this.token[0].line : 1;
    throw new TemplateError(`template: ${this.sh.src.name}:${line}: ${msg}`, 'parse');
  }

  expect(expected: T, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== expected) this.unexpected(token, context);
    return token;
  }

  expectOneOf(e1: T, e2: T, context: string): Item {
    const token = this.nextNonSpace();
    if (token.typ !== e1 && token.typ !== e2) this.unexpected(token, context);
    return token;
  }

  unexpected(token: Item, context: string): never {
    if (token.typ === T.Error) {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at ${this.sh.src.name}:${this.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${itemString(token)}${extra}`);
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`);
  }

  // ---- node constructors ----
  base(pos: number): Base {
    return { pos, src: this.sh.src };
  }

  newList(pos: number): ListNode {
    return { type: 'list', nodes: [], ...this.base(pos) };
  }

  // ---- grammar ----
  add(): void {
    const tree = this.sh.treeSet.get(this.name);
    if (!tree || isEmptyTree(tree.root)) {
      this.sh.treeSet.set(this.name, { name: this.name, root: this.root!, src: this.sh.src });
      return;
    }
    if (!isEmptyTree(this.root)) this.errorf(`template: multiple definition of template ${quote(this.name)}`);
  }

  parse(): void {
    this.root = this.newList(this.peek().pos);
    while (this.peek().typ !== T.EOF) {
      if (this.peek().typ === T.LeftDelim) {
        const delim = this.next();
        if (this.nextNonSpace().typ === T.Define) {
          const newT = new TreeParser('definition', this.sh);
          newT.parseDefinition();
          continue;
        }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${nodeString(n)}`);
      else this.root.nodes.push(n);
    }
  }

  parseDefinition(): void {
    const context = 'define clause';
    const name = this.expectOneOf(T.String, T.RawString, context);
    this.name = this.unquote(name.val);
    this.expect(T.RightDelim, context);
    const [list, end] = this.itemList();
    this.root = list;
    if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.add();
  }

  itemList(): [ListNode, Node] {
    const list = this.newList(this.peekNonSpace().pos);
    while (this.peekNonSpace().typ !== T.EOF) {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  textOrAction(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Text:
        return { type: 'text', text: token.val, ...this.base(token.pos) };
      case T.LeftDelim: {
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
      case T.Comment:
        return { type: 'comment', text: token.val, ...this.base(token.pos) };
      default:
        this.unexpected(token, 'input');
    }
  }

  action(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Block:
        return this.blockControl();
      case T.Break:
        return this.breakControl(token.pos, 'break');
      case T.Continue:
        return this.breakControl(token.pos, 'continue');
      case T.Else:
        return this.elseControl();
      case T.End:
        return this.endControl();
      case T.If:
        return this.branch('if', true);
      case T.Range:
        return this.branch('range', false);
      case T.Template:
        return this.templateControl();
      case T.With:
        return this.branch('with', false);
    }
    this.backup();
    const tok = this.peek();
    return { type: 'action', pipe: this.pipeline('command', T.RightDelim), ...this.base(tok.pos) };
  }

  breakControl(pos: number, kw: 'break' | 'continue'): Node {
    const token = this.nextNonSpace();
    if (token.typ !== T.RightDelim) this.unexpected(token, `{{${kw}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${kw}}} outside {{range}}`);
    return { type: kw, ...this.base(pos) };
  }

  pipeline(context: string, end: T): PipeNode {
    const token = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', isAssign: false, decl: [], cmds: [], ...this.base(token.pos) };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.typ === T.Variable) {
        this.next();
        const tokenAfterVariable = this.peek();
        const next = this.peekNonSpace();
        if (next.typ === T.Assign || next.typ === T.Declare) {
          pipe.isAssign = next.typ === T.Assign;
          this.nextNonSpace();
          pipe.decl.push(this.newVariable(v.pos, v.val));
          this.vars.push(v.val);
        } else if (next.typ === T.Char && next.val === ',') {
          this.nextNonSpace();
          pipe.decl.push(this.newVariable(v.pos, v.val));
          this.vars.push(v.val);
          if (context === 'range' && pipe.decl.length < 2) {
            const p = this.peekNonSpace().typ;
            if (p === T.Variable || p === T.RightDelim || p === T.RightParen) continue;
            this.errorf('range can only initialize variables');
          }
          this.errorf(`too many declarations in ${context}`);
        } else if (tokenAfterVariable.typ === T.Space) {
          this.backup3(v, tokenAfterVariable);
        } else {
          this.backup2(v);
        }
      }
      break;
    }
    for (;;) {
      const token = this.nextNonSpace();
      switch (token.typ) {
        case end:
          this.checkPipeline(pipe, context);
          return pipe;
        case T.Bool:
        case T.CharConstant:
        case T.Complex:
        case T.Dot:
        case T.Field:
        case T.Identifier:
        case T.Number:
        case T.Nil:
        case T.RawString:
        case T.String:
        case T.Variable:
        case T.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(token, context);
      }
    }
  }

  checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    for (let i = 1; i < pipe.cmds.length; i++) {
      const t = pipe.cmds[i].args[0].type;
      if (t === 'bool' || t === 'dot' || t === 'nil' || t === 'number' || t === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 1}`);
      }
    }
  }

  branch(context: 'if' | 'range' | 'with', allowElseIf: boolean): BranchNode {
    const nvars = this.vars.length;
    try {
      const pipe = this.pipeline(context, T.RightDelim);
      if (context === 'range') this.rangeDepth++;
      const [list, next0] = this.itemList();
      if (context === 'range') this.rangeDepth--;
      let next = next0;
      let elseList: ListNode | null = null;
      if (next.type === 'else') {
        if (allowElseIf && this.peek().typ === T.If) {
          this.next();
          elseList = this.newList(next.pos);
          elseList.nodes.push(this.branch('if', true));
        } else {
          [elseList, next] = this.itemList();
          if (next.type !== 'end') this.errorf(`expected end; found ${nodeString(next)}`);
        }
      }
      return { type: context, pipe, list, elseList, ...this.base(pipe.pos) };
    } finally {
      this.vars.length = nvars;
    }
  }

  endControl(): Node {
    return { type: 'end', ...this.base(this.expect(T.RightDelim, 'end').pos) };
  }

  elseControl(): Node {
    const peek = this.peekNonSpace();
    if (peek.typ === T.If) return { type: 'else', ...this.base(peek.pos) };
    const token = this.expect(T.RightDelim, 'else');
    return { type: 'else', ...this.base(token.pos) };
  }

  blockControl(): Node {
    const context = 'block clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    const pipe = this.pipeline(context, T.RightDelim);
    const block = new TreeParser(name, this.sh);
    const [list, end] = block.itemList();
    block.root = list;
    if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    block.add();
    return { type: 'template', name, pipe, ...this.base(token.pos) };
  }

  templateControl(): Node {
    const context = 'template clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().typ !== T.RightDelim) {
      this.backup();
      pipe = this.pipeline(context, T.RightDelim);
    }
    return { type: 'template', name, pipe, ...this.base(token.pos) };
  }

  parseTemplateName(token: Item, context: string): string {
    if (token.typ === T.String || token.typ === T.RawString) return this.unquote(token.val);
    this.unexpected(token, context);
  }

  command(): CommandNode {
    const cmd: CommandNode = { type: 'command', args: [], ...this.base(this.peekNonSpace().pos) };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const token = this.next();
      if (token.typ === T.Space) continue;
      if (token.typ === T.RightDelim || token.typ === T.RightParen) this.backup();
      else if (token.typ !== T.Pipe) this.unexpected(token, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  operand(): ArgNode | null {
    const node = this.term();
    if (!node) return null;
    if (this.peek().typ === T.Field) {
      const chainPos = this.peek().pos;
      const fields: string[] = [];
      while (this.peek().typ === T.Field) fields.push(this.next().val.slice(1));
      switch (node.type) {
        case 'field':
          return { type: 'field', ident: [...node.ident, ...fields], ...this.base(chainPos) };
        case 'variable':
          return { type: 'variable', ident: [...node.ident, ...fields], ...this.base(chainPos) };
        case 'bool':
        case 'string':
        case 'number':
        case 'nil':
        case 'dot':
          this.errorf(`unexpected . after term ${quote(nodeString(node))}`);
          break;
        default:
          return { type: 'chain', node, field: fields, ...this.base(chainPos) };
      }
    }
    return node;
  }

  term(): ArgNode | null {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case T.Identifier:
        if (!this.sh.hasFunction(token.val)) this.errorf(`function ${quote(token.val)} not defined`);
        return { type: 'identifier', ident: token.val, ...this.base(token.pos) };
      case T.Dot:
        return { type: 'dot', ...this.base(token.pos) };
      case T.Nil:
        return { type: 'nil', ...this.base(token.pos) };
      case T.Variable:
        return this.useVar(token.pos, token.val);
      case T.Field:
        return { type: 'field', ident: token.val.slice(1).split('.'), ...this.base(token.pos) };
      case T.Bool:
        return { type: 'bool', value: token.val === 'true', ...this.base(token.pos) };
      case T.CharConstant:
      case T.Complex:
      case T.Number:
        return this.newNumber(token);
      case T.LeftParen:
        return this.pipeline('parenthesized pipeline', T.RightParen);
      case T.String:
      case T.RawString:
        return { type: 'string', quoted: token.val, text: this.unquote(token.val), ...this.base(token.pos) };
    }
    this.backup();
    return null;
  }

  newVariable(pos: number, ident: string): VariableNode {
    return { type: 'variable', ident: ident.split('.'), ...this.base(pos) };
  }

  useVar(pos: number, name: string): VariableNode {
    const v = this.newVariable(pos, name);
    if (this.vars.includes(v.ident[0])) return v;
    this.errorf(`undefined variable ${quote(v.ident[0])}`);
  }

  unquote(s: string): string {
    const r = unquoteGo(s);
    if (r === null) this.errorf('invalid syntax');
    return r;
  }

  newNumber(token: Item): NumberNode {
    const text = token.val;
    const n: NumberNode = {
      type: 'number',
      isInt: false,
      isUint: false,
      isFloat: false,
      isComplex: false,
      int64: 0n,
      float64: 0,
      text,
      ...this.base(token.pos),
    };
    if (token.typ === T.CharConstant) {
      const r = unquoteChar(text);
      if (r === null) this.errorf('invalid syntax');
      if (r.tail !== "'") this.errorf(`malformed character constant: ${text}`);
      n.int64 = BigInt(r.rune);
      n.isInt = true;
      n.isUint = true;
      n.float64 = r.rune;
      n.isFloat = true;
      return n;
    }
    if (token.typ === T.Complex || text.endsWith('i')) {
      // Complex constants exist in Go but no template data or function here uses them.
      this.errorf(`complex constants are not supported: ${quote(text)}`);
    }
    const i = parseGoInt(text);
    if (i !== null) {
      if (i >= 0n && i < 1n << 64n) n.isUint = true;
      if (i >= -(1n << 63n) && i < 1n << 63n) n.isInt = true;
      n.int64 = i;
    }
    if (n.isInt || n.isUint) {
      n.isFloat = true;
      n.float64 = Number(i);
    } else {
      const f = parseGoFloat(text);
      if (f !== null) {
        if (!/[.eEpP]/.test(text)) this.errorf(`integer overflow: ${quote(text)}`);
        n.isFloat = true;
        n.float64 = f;
        if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) {
          n.isInt = true;
          n.int64 = BigInt(f);
          if (f >= 0) n.isUint = true;
        }
      }
    }
    if (!n.isInt && !n.isUint && !n.isFloat) this.errorf(`illegal number syntax: ${quote(text)}`);
    return n;
  }
}

function isEmptyTree(n: ListNode | null): boolean {
  if (!n) return true;
  for (const node of n.nodes) {
    if (node.type === 'comment') continue;
    if (node.type === 'text' && goSpaceOnly.test(node.text)) continue;
    return false;
  }
  return true;
}

// unicode.IsSpace, as bytes.TrimSpace uses it.
const goSpaceOnly = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

function underscoreOK(s: string): boolean {
  // Go's rule: underscores only between digits (or after a base prefix), and only with base 0.
  let saw = '^';
  let i = 0;
  if (s[0] === '+' || s[0] === '-') s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0') {
    const c = s[1].toLowerCase();
    if (c === 'x' || c === 'o' || c === 'b') {
      i = 2;
      saw = '0';
      hex = c === 'x';
    }
  }
  for (; i < s.length; i++) {
    const c = s[i];
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** strconv.ParseInt(s, 0, 64) widened to uint64 range; null when not an integer literal. */
export function parseGoInt(text: string): bigint | null {
  let s = text;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s.includes('_')) {
    if (!underscoreOK(text)) return null;
    s = s.replace(/_/g, '');
  }
  let v: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = BigInt(s);
  else if (/^0[oO][0-7]+$/.test(s)) v = BigInt('0o' + s.slice(2));
  else if (/^0[bB][01]+$/.test(s)) v = BigInt(s);
  else if (/^0[0-7]+$/.test(s)) v = BigInt('0o' + s.slice(1));
  else if (/^(0|[1-9][0-9]*)$/.test(s)) v = BigInt(s);
  else return null;
  if (neg) v = -v;
  if (v >= 1n << 64n || v < -(1n << 63n)) return null;
  return v;
}

/** strconv.ParseFloat(s, 64), decimal and hex forms; null when not a float literal. */
export function parseGoFloat(text: string): number | null {
  let s = text;
  if (s.includes('_')) {
    if (!underscoreOK(text)) return null;
    s = s.replace(/_/g, '');
  }
  // Out-of-range values are errors in strconv.ParseFloat, not infinities.
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    const v = Number(s);
    return Number.isFinite(v) ? v : null;
  }
  const m = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?\d+)$/.exec(s);
  if (m && (m[2] || m[3])) {
    const mant = Number.parseInt((m[2] || '0') + (m[3] || ''), 16);
    const v = mant * 2 ** (Number(m[4]) - 4 * m[3].length);
    if (!Number.isFinite(v)) return null;
    return m[1] === '-' ? -v : v;
  }
  return null;
}

function decodeBytes(bytes: number[]): string {
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** strconv.UnquoteChar-based decoding of one escape; returns code point (or byte with isByte). */
function unescapeAt(
  s: string,
  i: number,
  quoteChar: string,
): { value: number; isByte: boolean; next: number } | null {
  const c = s[i + 1];
  switch (c) {
    case 'a':
      return { value: 7, isByte: false, next: i + 2 };
    case 'b':
      return { value: 8, isByte: false, next: i + 2 };
    case 'f':
      return { value: 12, isByte: false, next: i + 2 };
    case 'n':
      return { value: 10, isByte: false, next: i + 2 };
    case 'r':
      return { value: 13, isByte: false, next: i + 2 };
    case 't':
      return { value: 9, isByte: false, next: i + 2 };
    case 'v':
      return { value: 11, isByte: false, next: i + 2 };
    case '\\':
      return { value: 92, isByte: false, next: i + 2 };
    case 'x': {
      const h = s.slice(i + 2, i + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) return null;
      return { value: Number.parseInt(h, 16), isByte: true, next: i + 4 };
    }
    case 'u':
    case 'U': {
      const n = c === 'u' ? 4 : 8;
      const h = s.slice(i + 2, i + 2 + n);
      if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) return null;
      const v = Number.parseInt(h, 16);
      if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return null;
      return { value: v, isByte: false, next: i + 2 + n };
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      const o = s.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(o)) return null;
      const v = Number.parseInt(o, 8);
      if (v > 255) return null;
      return { value: v, isByte: true, next: i + 4 };
    }
    case "'":
    case '"':
      if (c !== quoteChar) return null;
      return { value: c.charCodeAt(0), isByte: false, next: i + 2 };
    default:
      return null;
  }
}

/** strconv.Unquote for "..." and `...` literals; null on invalid syntax. */
export function unquoteGo(s: string): string | null {
  if (s.length < 2) return null;
  const q = s[0];
  if (q !== s[s.length - 1]) return null;
  const body = s.slice(1, -1);
  if (q === '`') {
    if (body.includes('`')) return null;
    return body.replace(/\r/g, '');
  }
  if (q !== '"') return null;
  if (!body.includes('\\') && !body.includes('"') && !body.includes('\n')) return body;
  let out = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length) {
      out += decodeBytes(bytes);
      bytes = [];
    }
  };
  let i = 0;
  while (i < body.length) {
    const c = body[i];
    if (c === '"' || c === '\n') return null;
    if (c !== '\\') {
      flush();
      out += c;
      i++;
      continue;
    }
    const e = unescapeAt(body, i, '"');
    if (!e) return null;
    if (e.isByte) bytes.push(e.value);
    else {
      flush();
      out += String.fromCodePoint(e.value);
    }
    i = e.next;
  }
  flush();
  return out;
}

function unquoteChar(text: string): { rune: number; tail: string } | null {
  const s = text.slice(1);
  if (s.length === 0) return null;
  if (s[0] === "'") return null;
  if (s[0] === '\\') {
    const e = unescapeAt(s, 0, "'");
    if (!e) return null;
    return { rune: e.value, tail: s.slice(e.next) };
  }
  const cp = s.codePointAt(0)!;
  const w = cp > 0xffff ? 2 : 1;
  return { rune: cp, tail: s.slice(w) };
}

/** Parse `text` as template `name`; returns the trees it defines, keyed by name. */
export function parseTrees(name: string, text: string, opts: ParseOptions): Map<string, Tree> {
  const left = opts.leftDelim || '{{';
  const right = opts.rightDelim || '}}';
  const lexer = new Lexer(
    text,
    left,
    right,
    false,
    !opts.hasFunction('break'),
    !opts.hasFunction('continue'),
  );
  const items = lexer.run();
  const sh: Shared = {
    items,
    idx: 0,
    src: { name, text },
    treeSet: new Map(),
    hasFunction: opts.hasFunction,
  };
  const t = new TreeParser(name, sh);
  t.parse();
  t.add();
  return sh.treeSet;
}
