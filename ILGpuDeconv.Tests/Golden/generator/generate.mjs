// Golden conformance-case generator for ILGpuDeconv (Keras Conv2DTranspose).
//
// Runs TensorFlow.js 4.22.0 on its pure-JS CPU backend and writes JSON case
// files (format: docs/CONFORMANCE-FORMAT.md) to ../cases/.
//
//   npm ci && npm run generate
//
// Two sources of expected values:
//   tfjs_layer     tf.layers.conv2dTranspose itself (setWeights + apply);
//                  gradients via tf.variableGrads over (x, kernel, bias).
//   tfjs_core_ops  built from core ops following Keras/TF rules (dilation,
//                  output_padding, and the leaky_relu / exponential
//                  activations that TF.js layers do not offer); gradients via
//                  tf.grads over (x, kernel, bias).
//
// Every case is additionally checked against an independent naive float64
// implementation of docs/CONFORMANCE-FORMAT.md's placement/crop rules, and every tfjs_layer
// case is recomputed with the core-op construction (must agree to 1e-6).

import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.resolve(HERE, '..', 'cases');

// ---------------------------------------------------------------------------
// Deterministic PRNG and float formatting
// ---------------------------------------------------------------------------

function mulberry32(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function strSeed(s) {
  // FNV-1a 32-bit
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

// Uniform float32 values in [-scale, scale).
function randArray(rng, n, scale) {
  const a = new Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.fround((rng() * 2 - 1) * scale);
  return a;
}

// Shortest decimal that round-trips to the same float32; returned as the JS
// number whose JSON text is that decimal.
function shortestF32(v) {
  const f = Math.fround(v);
  if (!Number.isFinite(f)) throw new Error(`non-finite value ${v}`);
  if (f === 0) return 0; // also maps -0 to 0
  for (let p = 1; p <= 9; p++) {
    const d = parseFloat(f.toPrecision(p));
    if (Math.fround(d) === f) return d;
  }
  throw new Error(`no float32 round-trip for ${v}`);
}

// Non-finite values are not JSON numbers: they are written as the strings "NaN", "Infinity" and
// "-Infinity" (the C# reader parses them), only in nonfinite.json.
const f32list = (arr) => Array.from(arr, (v) => (Number.isFinite(v) ? shortestF32(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'));

// ---------------------------------------------------------------------------
// Keras / TensorFlow shape rules (docs/CONFORMANCE-FORMAT.md)
// ---------------------------------------------------------------------------

const effK = (k, d) => (k - 1) * d + 1;

// Keras deconv_output_length (kernel = dilated kernel size).
function deconvOutLen(n, k, s, d, padding, outPad) {
  const ke = effK(k, d);
  if (outPad == null) {
    return padding === 'valid' ? n * s + Math.max(ke - s, 0) : n * s;
  }
  const pad = padding === 'same' ? Math.floor(ke / 2) : 0;
  return (n - 1) * s + ke - 2 * pad + outPad;
}

// crop at the beginning, from TF's forward-SAME padding rule.
function cropBegin(n, k, s, d, OH, padding) {
  if (padding === 'valid') return 0;
  const need = Math.max(0, (n - 1) * s + effK(k, d) - OH);
  return Math.floor(need / 2);
}

// Returns null when TF/Keras accept the configuration, else the reason.
function refusal(sp) {
  const { kh, kw, sh, sw, dh, dw, op, padding, H, W } = sp;
  if (op != null) {
    if (op[0] >= sh || op[1] >= sw)
      return `Keras: output_padding ${JSON.stringify(op)} must be < strides ${JSON.stringify([sh, sw])}`;
  }
  if ((dh > 1 || dw > 1) && (sh > 1 || sw > 1))
    return `Keras: dilation_rate ${JSON.stringify([dh, dw])} > 1 together with strides ${JSON.stringify([sh, sw])} > 1`;
  const axes = [['H', H, kh, sh, dh, op ? op[0] : null], ['W', W, kw, sw, dw, op ? op[1] : null]];
  for (const [name, n, k, s, d, p] of axes) {
    const OH = deconvOutLen(n, k, s, d, padding, p);
    const ke = effK(k, d);
    let back;
    if (padding === 'same') back = Math.ceil(OH / s);
    else back = OH < ke ? 0 : Math.floor((OH - ke) / s) + 1;
    if (OH <= 0 || back !== n)
      return `TF: axis ${name}: output size ${OH} (n=${n}, k_eff=${ke}, s=${s}, output_padding=${p}, ${padding}) ` +
        `maps back to ${back} != ${n} in the forward conv`;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------

// Keras snake_case name -> TF.js layer identifier (null: core ops only).
const ACTS = {
  linear: 'linear',
  relu: 'relu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  relu6: 'relu6',
  elu: 'elu',
  selu: 'selu',
  softplus: 'softplus',
  softsign: 'softsign',
  hard_sigmoid: 'hardSigmoid', // TF.js rejects 'hard_sigmoid' (registered as 'hardSigmoid')
  swish: 'swish',
  gelu: 'gelu',
  gelu_new: 'gelu_new',
  mish: 'mish',
  leaky_relu: null, // Keras 3: leaky_relu(x, negative_slope=0.2)
  exponential: null, // Keras 3: exp(x)
};

// Not element-wise: normalised along the last axis (Keras axis=-1: the filters for channels_last, the
// width for channels_first). Kept out of ACTS so the element-wise files stay as they are.
const AXIS_ACTS = {
  softmax: 'softmax',
  log_softmax: 'logSoftmax',
};

const actLayerCache = new Map();
function applyActivation(name, z) {
  if (name === 'leaky_relu') return tf.leakyRelu(z, 0.2);
  if (name === 'exponential') return tf.exp(z);
  const id = ACTS[name] ?? AXIS_ACTS[name];
  if (id === undefined) throw new Error(`unknown activation ${name}`);
  if (id === 'linear') return z;
  // Same Activation object the conv layer uses (tfjs-layers activations.js).
  if (!actLayerCache.has(id)) actLayerCache.set(id, tf.layers.activation({ activation: id }));
  return actLayerCache.get(id).apply(z);
}

// ---------------------------------------------------------------------------
// Case computation
// ---------------------------------------------------------------------------

function geometry(sp) {
  const OH = deconvOutLen(sp.H, sp.kh, sp.sh, sp.dh, sp.padding, sp.op ? sp.op[0] : null);
  const OW = deconvOutLen(sp.W, sp.kw, sp.sw, sp.dw, sp.padding, sp.op ? sp.op[1] : null);
  const ct = cropBegin(sp.H, sp.kh, sp.sh, sp.dh, OH, sp.padding);
  const cl = cropBegin(sp.W, sp.kw, sp.sw, sp.dw, OW, sp.padding);
  const cf = sp.format === 'channels_first';
  const inShape = cf ? [sp.N, sp.C, sp.H, sp.W] : [sp.N, sp.H, sp.W, sp.C];
  const outShape = cf ? [sp.N, sp.F, OH, OW] : [sp.N, OH, OW, sp.F];
  const kShape = [sp.kh, sp.kw, sp.F, sp.C];
  return { OH, OW, ct, cl, cf, inShape, outShape, kShape };
}

// Dilated kernel [keh, kew, F, C] from K [kh, kw, F, C] through 0/1 selection
// matmuls, so gradients flow back to the small kernel.
function dilateKernel(K, kh, kw, F, C, dh, dw) {
  if (dh === 1 && dw === 1) return K;
  const keh = effK(kh, dh), kew = effK(kw, dw);
  const selH = tf.buffer([keh, kh]);
  for (let a = 0; a < kh; a++) selH.set(1, a * dh, a);
  const selW = tf.buffer([kew, kw]);
  for (let b = 0; b < kw; b++) selW.set(1, b * dw, b);
  let t = tf.matMul(selH.toTensor(), tf.reshape(K, [kh, kw * F * C])); // [keh, kw*F*C]
  t = tf.transpose(tf.reshape(t, [keh, kw, F * C]), [1, 0, 2]); // [kw, keh, F*C]
  t = tf.matMul(selW.toTensor(), tf.reshape(t, [kw, keh * F * C])); // [kew, keh*F*C]
  return tf.transpose(tf.reshape(t, [kew, keh, F, C]), [1, 0, 2, 3]); // [keh, kew, F, C]
}

function coreForward(sp, g, x, K, b) {
  let xh = g.cf ? tf.transpose(x, [0, 2, 3, 1]) : x;
  const Ke = dilateKernel(K, sp.kh, sp.kw, sp.F, sp.C, sp.dh, sp.dw);
  let y = tf.conv2dTranspose(xh, Ke, [sp.N, g.OH, g.OW, sp.F], [sp.sh, sp.sw], sp.padding);
  if (g.cf) y = tf.transpose(y, [0, 3, 1, 2]);
  if (b) y = tf.add(y, tf.reshape(b, g.cf ? [1, sp.F, 1, 1] : [1, 1, 1, sp.F]));
  return applyActivation(sp.act, y);
}

function runCore(sp, g, data) {
  return tf.tidy(() => {
    const x = tf.tensor(data.input, g.inShape);
    const K = tf.tensor(data.kernel, g.kShape);
    const up = tf.tensor(data.upstream, g.outShape);
    const args = sp.bias ? [x, K, tf.tensor(data.bias, [sp.F])] : [x, K];
    const out = coreForward(sp, g, ...args);
    const lossFn = (...t) => tf.sum(tf.mul(coreForward(sp, g, t[0], t[1], t[2]), up));
    const grads = tf.grads(lossFn)(args);
    return {
      output: out.dataSync().slice(),
      outShape: out.shape,
      grad_input: grads[0].dataSync().slice(),
      grad_kernel: grads[1].dataSync().slice(),
      grad_bias: sp.bias ? grads[2].dataSync().slice() : null,
    };
  });
}

function runLayer(sp, g, data) {
  const layer = tf.layers.conv2dTranspose({
    filters: sp.F,
    kernelSize: [sp.kh, sp.kw],
    strides: [sp.sh, sp.sw],
    padding: sp.padding,
    dataFormat: g.cf ? 'channelsFirst' : 'channelsLast',
    useBias: sp.bias,
    activation: sp.act in ACTS ? ACTS[sp.act] : AXIS_ACTS[sp.act],
    kernelInitializer: 'zeros',
    biasInitializer: 'zeros',
  });
  layer.build(g.inShape);
  const res = tf.tidy(() => {
    const w = [tf.tensor(data.kernel, g.kShape)];
    if (sp.bias) w.push(tf.tensor(data.bias, [sp.F]));
    layer.setWeights(w);
    const xT = tf.tensor(data.input, g.inShape);
    const up = tf.tensor(data.upstream, g.outShape);
    const out = layer.apply(xT);
    const xv = tf.variable(xT, true);
    const vars = [xv, layer.kernel.read()];
    if (sp.bias) vars.push(layer.bias.read());
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(xv), up)), vars);
    const r = {
      output: out.dataSync().slice(),
      outShape: out.shape,
      grad_input: grads[xv.name].dataSync().slice(),
      grad_kernel: grads[layer.kernel.read().name].dataSync().slice(),
      grad_bias: sp.bias ? grads[layer.bias.read().name].dataSync().slice() : null,
    };
    xv.dispose();
    return r;
  });
  // Layer.dispose() refuses layers never called symbolically; free weights directly.
  for (const w of layer.weights) w.dispose();
  return res;
}

// ---------------------------------------------------------------------------
// Independent naive float64 reference (docs/CONFORMANCE-FORMAT.md placement rule)
// ---------------------------------------------------------------------------

function naiveCheck(sp, g, data, res) {
  const { N, C, F, H, W, kh, kw, sh, sw, dh, dw } = sp;
  const { OH, OW, ct, cl, cf } = g;
  const xi = cf ? (n, i, j, c) => ((n * C + c) * H + i) * W + j : (n, i, j, c) => ((n * H + i) * W + j) * C + c;
  const yi = cf ? (n, i, j, f) => ((n * F + f) * OH + i) * OW + j : (n, i, j, f) => ((n * OH + i) * OW + j) * F + f;
  const ki = (a, b, f, c) => ((a * kw + b) * F + f) * C + c;
  const z = new Float64Array(N * OH * OW * F);
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let f = 0; f < F; f++)
    z[yi(n, oh, ow, f)] = sp.bias ? data.bias[f] : 0;
  const taps = []; // [xIndex, kIndex, yIndex, f]
  for (let n = 0; n < N; n++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) {
    const oh = i * sh + a * dh - ct, ow = j * sw + b * dw - cl;
    if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
    for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) {
      const t = [xi(n, i, j, c), ki(a, b, f, c), yi(n, oh, ow, f), f];
      z[t[2]] += data.input[t[0]] * data.kernel[t[1]];
      taps.push(t);
    }
  }
  // activation and its derivative through TF.js on the naive pre-activation
  const [yv, dz] = tf.tidy(() => {
    const zt = tf.tensor(Float32Array.from(z), g.outShape);
    const up = tf.tensor(data.upstream, g.outShape);
    const y = applyActivation(sp.act, zt);
    const d = tf.grad((t) => tf.sum(tf.mul(applyActivation(sp.act, t), up)))(zt);
    return [y.dataSync().slice(), d.dataSync().slice()];
  });
  const gx = new Float64Array(data.input.length), gk = new Float64Array(data.kernel.length), gb = new Float64Array(F);
  for (const [xI, kI, yI] of taps) {
    gx[xI] += dz[yI] * data.kernel[kI];
    gk[kI] += dz[yI] * data.input[xI];
  }
  if (sp.bias) for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let f = 0; f < F; f++)
    gb[f] += dz[yi(n, oh, ow, f)];
  const cmp = (name, got, want) => {
    let worst = 0;
    for (let i = 0; i < want.length; i++) {
      const err = Number.isFinite(want[i]) ? absDiff(got[i], want[i]) / (1e-5 + 1e-5 * Math.abs(want[i])) : absDiff(got[i], want[i]);
      if (!(err <= 1)) throw new Error(`naive check failed: ${name}[${i}] tfjs=${got[i]} naive=${want[i]}`);
      worst = Math.max(worst, err);
    }
    return worst;
  };
  return Math.max(
    cmp('output', res.output, yv), cmp('grad_input', res.grad_input, gx),
    cmp('grad_kernel', res.grad_kernel, gk), sp.bias ? cmp('grad_bias', res.grad_bias, gb) : 0);
}

// NaN matches NaN and an infinity matches itself; any other non-finite mismatch is infinitely wrong.
function absDiff(a, b) {
  if (Number.isFinite(a) && Number.isFinite(b)) return Math.abs(a - b);
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)) ? 0 : Infinity;
}

function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error('length mismatch');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, absDiff(a[i], b[i]));
  return m;
}

// ---------------------------------------------------------------------------
// Spec normalisation and case building
// ---------------------------------------------------------------------------

function spec(s) {
  const k = Array.isArray(s.k) ? s.k : [s.k, s.k];
  const st = Array.isArray(s.s) ? s.s : [s.s ?? 1, s.s ?? 1];
  const d = Array.isArray(s.d) ? s.d : [s.d ?? 1, s.d ?? 1];
  const hw = Array.isArray(s.hw) ? s.hw : [s.hw, s.hw];
  const act = s.act ?? 'linear';
  const useCore = s.core || (d[0] > 1 || d[1] > 1) || s.op !== undefined || (act in ACTS ? ACTS[act] : AXIS_ACTS[act]) === null;
  return {
    N: s.n ?? 1, H: hw[0], W: hw[1], C: s.c ?? 2, F: s.f ?? 2,
    kh: k[0], kw: k[1], sh: st[0], sw: st[1], dh: d[0], dw: d[1],
    padding: s.pad, format: s.fmt ?? 'channels_last', bias: s.bias ?? true, act,
    op: s.op === undefined ? null : s.op, xScale: s.xs ?? 1, poison: s.poison ?? [],
    source: useCore ? 'tfjs_core_ops' : 'tfjs_layer',
  };
}

const stats = { crossChecked: 0, crossMax: 0, naiveWorst: 0, skipped: [] };

function buildFile(fileName, rawSpecs) {
  const seedBase = strSeed(fileName);
  const cases = [];
  for (const raw of rawSpecs) {
    const sp = spec(raw);
    const why = refusal(sp);
    if (why) {
      stats.skipped.push(`${fileName}: ${describe(sp)} -- ${why}`);
      continue;
    }
    const id = cases.length;
    const g = geometry(sp);
    const rng = mulberry32((seedBase + Math.imul(id + 1, 0x9e3779b9)) >>> 0);
    const size = (sh) => sh.reduce((p, v) => p * v, 1);
    const data = {
      input: randArray(rng, size(g.inShape), sp.xScale),
      kernel: randArray(rng, size(g.kShape), 1),
      bias: sp.bias ? randArray(rng, sp.F, 1) : null,
      upstream: randArray(rng, size(g.outShape), 1),
    };
    for (const { t, i, v } of sp.poison) data[t][i % data[t].length] = v;
    const res = sp.source === 'tfjs_layer' ? runLayer(sp, g, data) : runCore(sp, g, data);
    if (JSON.stringify(res.outShape) !== JSON.stringify(g.outShape))
      throw new Error(`${fileName}#${id}: output shape ${res.outShape} != rule ${g.outShape}`);
    if (sp.source === 'tfjs_layer') {
      // cross-check the core-op construction against the layer
      const core = runCore(sp, g, data);
      const m = Math.max(maxAbsDiff(res.output, core.output), maxAbsDiff(res.grad_input, core.grad_input),
        maxAbsDiff(res.grad_kernel, core.grad_kernel), sp.bias ? maxAbsDiff(res.grad_bias, core.grad_bias) : 0);
      if (!(m <= 1e-6)) throw new Error(`${fileName}#${id}: layer vs core-op mismatch ${m}`);
      stats.crossChecked++;
      stats.crossMax = Math.max(stats.crossMax, m);
    }
    stats.naiveWorst = Math.max(stats.naiveWorst, naiveCheck(sp, g, data, res));
    cases.push({
      id,
      source: sp.source,
      config: {
        filters: sp.F,
        kernel_size: [sp.kh, sp.kw],
        strides: [sp.sh, sp.sw],
        padding: sp.padding,
        data_format: sp.format,
        use_bias: sp.bias,
        activation: sp.act,
        dilation_rate: [sp.dh, sp.dw],
        output_padding: sp.op,
      },
      input_shape: g.inShape,
      kernel_shape: g.kShape,
      output_shape: g.outShape,
      crop_begin: [g.ct, g.cl],
      input: f32list(data.input),
      kernel: f32list(data.kernel),
      bias: sp.bias ? f32list(data.bias) : null,
      upstream: f32list(data.upstream),
      output: f32list(res.output),
      grad_input: f32list(res.grad_input),
      grad_kernel: f32list(res.grad_kernel),
      grad_bias: sp.bias ? f32list(res.grad_bias) : null,
    });
  }
  // one case object per block, one field per line, arrays inline
  const text = '[\n' + cases.map((c) => '  {\n' + Object.entries(c)
    .map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(',\n') + '\n  }').join(',\n') + '\n]\n';
  fs.writeFileSync(path.join(OUT_DIR, fileName), text);
  console.log(`${fileName}: ${cases.length} cases, ${(text.length / 1024).toFixed(1)} KiB`);
  return cases.length;
}

function describe(sp) {
  return `in=${sp.N}x${sp.H}x${sp.W}x${sp.C} F=${sp.F} k=${sp.kh}x${sp.kw} s=${sp.sh}x${sp.sw} ` +
    `d=${sp.dh}x${sp.dw} op=${JSON.stringify(sp.op)} ${sp.padding} ${sp.format} act=${sp.act}`;
}

// ---------------------------------------------------------------------------
// Case lists
// ---------------------------------------------------------------------------

const PADS = ['valid', 'same'];

function forwardBasic() {
  const specs = [];
  const shapes = [[3, 3], [4, 4], [5, 5], [2, 3], [1, 1], [4, 6], [7, 2], [6, 5]];
  let r = 0;
  for (const k of [1, 2, 3, 4, 5]) for (const s of [1, 2]) for (const pad of PADS) {
    specs.push({
      n: 1 + (r % 3), hw: shapes[r % shapes.length], c: 1 + (r % 4), f: 1 + ((r + 2) % 4),
      k, s, pad, bias: r % 4 !== 3, act: r % 2 ? 'relu' : 'linear',
    });
    r++;
  }
  // 1-pixel inputs
  for (const [k, s, pad] of [[3, 2, 'same'], [3, 2, 'valid'], [4, 1, 'valid'], [4, 1, 'same'], [2, 2, 'same'], [5, 2, 'valid']])
    specs.push({ n: 2, hw: 1, c: 3, f: 2, k, s, pad, bias: true, act: 'linear' });
  // non-square / odd / even inputs, batch 3
  specs.push({ n: 3, hw: [3, 5], c: 2, f: 3, k: 3, s: 2, pad: 'same' });
  specs.push({ n: 3, hw: [5, 3], c: 2, f: 3, k: 4, s: 2, pad: 'same', bias: false });
  specs.push({ n: 2, hw: [6, 4], c: 4, f: 4, k: 2, s: 2, pad: 'valid', act: 'relu' });
  specs.push({ n: 1, hw: [7, 7], c: 1, f: 1, k: 5, s: 1, pad: 'same' });
  specs.push({ n: 1, hw: [2, 7], c: 3, f: 1, k: 3, s: 1, pad: 'valid', bias: false });
  specs.push({ n: 2, hw: [1, 4], c: 2, f: 2, k: 2, s: 2, pad: 'same' });
  return specs;
}

function stridesKernels() {
  const specs = [];
  const shapes = [[3, 3], [2, 4], [4, 3], [1, 5], [3, 2], [5, 5], [2, 2]];
  const acts = ['linear', 'relu', 'sigmoid', 'tanh'];
  let r = 0;
  for (const s of [[2, 2], [3, 2], [1, 3], [2, 1], [3, 3]]) for (const k of [[2, 3], [5, 1], [3, 3], [4, 2]]) for (const pad of PADS) {
    if ((r % 8) >= 6 && !(s[0] === 3 && s[1] === 2)) { r++; continue; } // thin out a little
    specs.push({
      n: 1 + (r % 2), hw: shapes[r % shapes.length], c: 1 + ((r + 1) % 4), f: 1 + (r % 3),
      k, s, pad, bias: r % 5 !== 4, act: acts[r % 4],
    });
    r++;
  }
  // stride larger than kernel (rows/columns without taps)
  for (const [k, s] of [[1, 2], [2, 3], [1, 3], [[1, 2], [2, 3]], [[2, 1], [3, 2]], [2, [3, 1]]]) for (const pad of PADS) {
    specs.push({ n: 2, hw: [3, 2], c: 2, f: 2, k, s, pad, bias: r % 2 === 0, act: r % 3 === 0 ? 'relu' : 'linear' });
    r++;
  }
  // kernel larger than input, large kernels
  specs.push({ n: 1, hw: [2, 2], c: 1, f: 3, k: 5, s: [2, 3], pad: 'valid' });
  specs.push({ n: 1, hw: [2, 2], c: 1, f: 3, k: 5, s: [2, 3], pad: 'same' });
  specs.push({ n: 1, hw: [3, 4], c: 2, f: 2, k: [1, 4], s: 1, pad: 'same' });
  specs.push({ n: 1, hw: [3, 4], c: 2, f: 2, k: [4, 1], s: [1, 2], pad: 'valid' });
  return specs;
}

function formatsActivations() {
  const specs = [];
  const acts = Object.keys(ACTS);
  // input scale: large enough that relu6 / hard_sigmoid hit both clips
  const scale = (a, v) => (a === 'relu6' ? [5, 9][v] : a === 'hard_sigmoid' ? [2, 3][v] : a === 'exponential' ? 0.5 : a === 'linear' ? 1 : 2);
  for (const act of acts) {
    specs.push({ n: 2, hw: [3, 4], c: 3, f: 2, k: 3, s: 2, pad: 'same', fmt: 'channels_last', bias: true, act, xs: scale(act, 0) });
    specs.push({ n: 1, hw: [3, 3], c: 2, f: 3, k: [2, 3], s: [3, 2], pad: 'valid', fmt: 'channels_first', bias: true, act, xs: scale(act, 1) });
  }
  // channels_first coverage with the layer
  let r = 0;
  for (const [k, s, pad, hw] of [
    [3, 1, 'same', [4, 4]], [3, 1, 'valid', [3, 5]], [4, 2, 'same', [3, 3]], [4, 2, 'valid', [2, 3]],
    [[2, 3], [3, 2], 'same', [2, 2]], [[5, 1], [1, 3], 'valid', [3, 2]], [1, 2, 'same', [1, 1]],
    [2, 3, 'valid', [2, 1]], [5, 2, 'same', [4, 3]], [3, 3, 'same', [2, 3]]]) {
    specs.push({ n: 1 + (r % 3), hw, c: 1 + (r % 4), f: 1 + ((r + 1) % 4), k, s, pad, fmt: 'channels_first', bias: r % 3 !== 2, act: ['linear', 'relu', 'tanh'][r % 3], xs: 1 });
    r++;
  }
  return specs;
}

function dilationOutputPadding() {
  const specs = [];
  let r = 0;
  // dilation, stride 1
  for (const d of [[2, 2], [1, 3], [3, 1]]) for (const k of [2, 3]) for (const pad of PADS) {
    specs.push({
      n: 1 + (r % 2), hw: [[3, 3], [4, 2], [2, 5], [3, 4]][r % 4], c: 1 + (r % 3), f: 1 + ((r + 1) % 3),
      k, s: 1, d, pad, fmt: r % 4 === 3 ? 'channels_first' : 'channels_last', bias: r % 3 !== 1, act: r % 5 === 2 ? 'relu' : 'linear',
    });
    r++;
  }
  specs.push({ n: 1, hw: [3, 3], c: 2, f: 2, k: [2, 3], s: 1, d: [2, 2], pad: 'same', act: 'tanh' });
  specs.push({ n: 2, hw: [2, 4], c: 2, f: 1, k: [3, 2], s: 1, d: [1, 3], pad: 'valid', fmt: 'channels_first', act: 'sigmoid' });
  // dilation + output_padding at stride 1 (only [0, 0] allowed)
  for (const [k, d] of [[2, [2, 2]], [3, [2, 2]], [2, [1, 3]], [2, [1, 1]], [3, [1, 1]]]) for (const pad of PADS)
    specs.push({ n: 1, hw: [3, 3], c: 2, f: 2, k, s: 1, d, op: [0, 0], pad });
  // refused by Keras: dilation together with stride > 1
  specs.push({ n: 1, hw: [3, 3], c: 1, f: 1, k: 3, s: 2, d: 2, pad: 'same' });
  specs.push({ n: 1, hw: [3, 3], c: 1, f: 1, k: 2, s: [1, 2], d: [3, 1], pad: 'valid' });
  // output_padding, strides 2 and 3
  for (const [s, ops, ks] of [
    [[2, 2], [null, [0, 0], [1, 0], [1, 1], [2, 1]], [3, 4]],
    [[3, 3], [null, [0, 0], [1, 1], [2, 1], [2, 2]], [2, 5]],
    [[3, 2], [[0, 0], [2, 1], [1, 1]], [[3, 4]]]]) {
    for (const op of ops) for (const k of ks) for (const pad of PADS) {
      specs.push({
        n: 1 + (r % 2), hw: [[2, 3], [3, 2], [2, 2], [3, 3]][r % 4], c: 1 + (r % 3), f: 1 + ((r + 2) % 3),
        k, s, op, pad, fmt: r % 5 === 1 ? 'channels_first' : 'channels_last', bias: r % 4 !== 2, act: r % 6 === 3 ? 'relu' : 'linear',
      });
      r++;
    }
  }
  // kernel 1 with output_padding, stride > kernel
  for (const pad of PADS) specs.push({ n: 1, hw: [2, 3], c: 2, f: 2, k: 1, s: 2, op: [1, 1], pad });
  // plain configurations through the core-op path (output_padding null, no dilation)
  for (const pad of PADS) specs.push({ n: 1, hw: [3, 2], c: 2, f: 2, k: 3, s: 2, pad, core: true });
  return specs;
}

// softmax and log_softmax over the last axis, both data formats, with and without bias, and with
// dilation and output_padding through the core-op path.
function axisActivations() {
  const specs = [];
  for (const act of Object.keys(AXIS_ACTS)) {
    specs.push({ n: 2, hw: [3, 4], c: 3, f: 4, k: 3, s: 2, pad: 'same', fmt: 'channels_last', bias: true, act, xs: 2 });
    specs.push({ n: 1, hw: [3, 3], c: 2, f: 3, k: [2, 3], s: [3, 2], pad: 'valid', fmt: 'channels_first', bias: true, act, xs: 2 });
    specs.push({ n: 2, hw: [2, 3], c: 2, f: 1, k: 2, s: 1, pad: 'valid', fmt: 'channels_last', bias: false, act });
    specs.push({ n: 1, hw: [4, 2], c: 3, f: 2, k: 4, s: 2, pad: 'same', fmt: 'channels_first', bias: false, act, xs: 3 });
    specs.push({ n: 1, hw: [3, 3], c: 2, f: 3, k: 2, s: 1, d: [2, 1], pad: 'same', fmt: 'channels_last', act });
    specs.push({ n: 1, hw: [2, 3], c: 2, f: 2, k: 3, s: 2, op: [1, 0], pad: 'valid', fmt: 'channels_first', act });
  }
  return specs;
}

// Larger shapes, so that the weight gradients sum a few thousand terms: float accumulation in the
// wrong order drifts past the tolerance here while the small cases cannot tell.
function longReductions() {
  return [
    { n: 4, hw: [12, 12], c: 16, f: 8, k: 4, s: 2, pad: 'same', act: 'linear' },
    { n: 8, hw: [10, 10], c: 8, f: 6, k: 3, s: 2, pad: 'valid', fmt: 'channels_first', act: 'tanh' },
  ];
}

// NaN and infinities in input, kernel and bias: what propagates where, forward and backward.
// Activations whose TensorFlow gradient at NaN is unambiguous (relu's is 0 in TensorFlow, NaN in TF.js).
function nonfinite() {
  return [
    { n: 1, hw: [3, 3], c: 2, f: 2, k: 3, s: 2, pad: 'same', act: 'linear', poison: [{ t: 'input', i: 4, v: NaN }] },
    { n: 2, hw: [3, 2], c: 2, f: 3, k: 4, s: 2, pad: 'same', fmt: 'channels_first', act: 'linear',
      poison: [{ t: 'input', i: 1, v: Infinity }, { t: 'input', i: 3, v: -Infinity }] },
    { n: 1, hw: [2, 3], c: 2, f: 2, k: 2, s: 1, pad: 'valid', act: 'tanh', poison: [{ t: 'kernel', i: 5, v: NaN }] },
    { n: 1, hw: [2, 2], c: 1, f: 2, k: 2, s: 2, pad: 'valid', act: 'linear',
      poison: [{ t: 'input', i: 0, v: 0 }, { t: 'kernel', i: 1, v: Infinity }] },
    { n: 1, hw: [2, 3], c: 2, f: 3, k: 3, s: 2, pad: 'same', act: 'linear', poison: [{ t: 'bias', i: 1, v: NaN }] },
    { n: 1, hw: [3, 3], c: 2, f: 2, k: 3, s: 1, pad: 'same', act: 'sigmoid', poison: [{ t: 'input', i: 7, v: Infinity }] },
    { n: 1, hw: [2, 2], c: 2, f: 2, k: 2, s: 2, pad: 'same', act: 'elu', op: [1, 1], poison: [{ t: 'input', i: 2, v: -Infinity }] },
  ];
}

// ---------------------------------------------------------------------------

async function main() {
  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu') throw new Error('cpu backend required');
  console.log(`TensorFlow.js ${tf.version.tfjs} backend=${tf.getBackend()}`);
  fs.mkdirSync(OUT_DIR, { recursive: true });
  let total = 0;
  total += buildFile('forward_basic.json', forwardBasic());
  total += buildFile('strides_kernels.json', stridesKernels());
  total += buildFile('formats_activations.json', formatsActivations());
  total += buildFile('dilation_output_padding.json', dilationOutputPadding());
  total += buildFile('nonfinite.json', nonfinite());
  total += buildFile('axis_activations.json', axisActivations());
  total += buildFile('long_reductions.json', longReductions());
  console.log(`total: ${total} cases`);
  console.log(`layer vs core-op cross-check: ${stats.crossChecked} cases, max |diff| = ${stats.crossMax}`);
  console.log(`naive float64 reference check: all cases pass; worst error / (1e-5 + 1e-5*|b|) = ${stats.naiveWorst.toFixed(4)}`);
  console.log(`skipped (refused by TF/Keras): ${stats.skipped.length}`);
  for (const s of stats.skipped) console.log(`  SKIP ${s}`);
  if (tf.memory().numTensors > 200) console.warn(`warning: ${tf.memory().numTensors} live tensors`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
