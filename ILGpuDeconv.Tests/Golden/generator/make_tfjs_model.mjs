// Writes a TF.js layers model (model.json + one weight shard) holding two Conv2DTranspose layers, as TF.js's
// own saving writes it, and TF.js's output of the model on a fixed input, into ../../IO/files/tfjs_model/.
//   node make_tfjs_model.mjs     (after npm ci here)
// The files are committed; CI regenerates nothing.
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'IO', 'files', 'tfjs_model');
mkdirSync(out, { recursive: true });
await tf.setBackend('cpu');

// Deterministic weights: TF.js initializers take seeds.
const model = tf.sequential();
model.add(tf.layers.conv2dTranspose({
  name: 'up1', inputShape: [5, 4, 3], filters: 4, kernelSize: [3, 2], strides: 2, padding: 'same',
  activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: tf.initializers.randomUniform({ seed: 2 }),
}));
model.add(tf.layers.conv2dTranspose({
  name: 'up2', filters: 2, kernelSize: 3, strides: 1, padding: 'valid', useBias: false,
  kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
}));

await model.save(tf.io.withSaveHandler(async (artifacts) => {
  // The layout tfjs-node's file:// handler writes: model.json naming its shards, then the shards.
  const shard = 'group1-shard1of1.bin';
  const json = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [shard], weights: artifacts.weightSpecs }],
  };
  writeFileSync(join(out, 'model.json'), JSON.stringify(json));
  writeFileSync(join(out, shard), Buffer.from(artifacts.weightData));
  return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
}));

// The first layer alone on a fixed input, and the whole model.
const x = tf.randomUniform([2, 5, 4, 3], -1, 1, 'float32', 7);
const first = tf.model({ inputs: model.inputs, outputs: model.layers[0].output });
writeFileSync(join(out, 'forward.json'), JSON.stringify({
  x_shape: x.shape, x: Array.from(x.dataSync()),
  up1_shape: first.predict(x).shape, up1: Array.from(first.predict(x).dataSync()),
}));
console.log(`wrote ${out}`);
