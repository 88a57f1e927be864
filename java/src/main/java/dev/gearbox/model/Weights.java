package dev.gearbox.model;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.Backend.Weight;
import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFFormatException;
import dev.gearbox.gguf.TensorInfo;

import java.util.Arrays;

/**
 * Every weight of a model, placed on one backend, each checked against the shape the config
 * implies, so a misshapen or missing tensor is an error at load time rather than garbage later.
 */
record Weights(Weight tokenEmbedding, Weight outputNorm, Weight output, Weight ropeFactors, Layer[] layers) {

    record Layer(Weight attnNorm, Weight wq, Weight wk, Weight wv, Weight wo,
                 Weight bq, Weight bk, Weight bv, Weight qNorm, Weight kNorm,
                 Weight ffnNorm, Weight wGate, Weight wUp, Weight wDown) {}

    static Weights load(GGUFFile f, ModelConfig c, Backend backend) throws GGUFFormatException {
        Loader l = new Loader(f, backend);
        Weight embd = l.matrix("token_embd.weight", c.dim(), c.vocabSize());
        Weight outNorm = l.vector("output_norm.weight", c.dim());
        Weight output = c.tiedOutput() ? embd : l.matrix("output.weight", c.dim(), c.vocabSize());
        Weight ropeFactors = f.tensor("rope_freqs.weight") != null ? l.vector("rope_freqs.weight", c.ropeDims() / 2) : null;
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "blk." + i + ".";
            boolean bias = c.arch().qkvBias();
            boolean qkNorm = c.arch().qkNorm();
            layers[i] = new Layer(
                    l.vector(p + "attn_norm.weight", c.dim()),
                    l.matrix(p + "attn_q.weight", c.dim(), c.qDim()),
                    l.matrix(p + "attn_k.weight", c.dim(), c.kvDim()),
                    l.matrix(p + "attn_v.weight", c.dim(), c.kvDim()),
                    l.matrix(p + "attn_output.weight", c.qDim(), c.dim()),
                    bias ? l.vector(p + "attn_q.bias", c.qDim()) : null,
                    bias ? l.vector(p + "attn_k.bias", c.kvDim()) : null,
                    bias ? l.vector(p + "attn_v.bias", c.kvDim()) : null,
                    qkNorm ? l.vector(p + "attn_q_norm.weight", c.headDim()) : null,
                    qkNorm ? l.vector(p + "attn_k_norm.weight", c.headDim()) : null,
                    l.vector(p + "ffn_norm.weight", c.dim()),
                    l.matrix(p + "ffn_gate.weight", c.dim(), c.ffDim()),
                    l.matrix(p + "ffn_up.weight", c.dim(), c.ffDim()),
                    l.matrix(p + "ffn_down.weight", c.ffDim(), c.dim()));
        }
        return new Weights(embd, outNorm, output, ropeFactors, layers);
    }

    private record Loader(GGUFFile f, Backend backend) {
        Weight matrix(String name, long cols, long rows) throws GGUFFormatException {
            TensorInfo t = require(name);
            if (t.shape().length != 2 || t.dim(0) != cols || t.dim(1) != rows) {
                throw misshapen(t, "[" + cols + ", " + rows + "]");
            }
            if (!t.type().computable()) {
                throw new GGUFFormatException(f.path(), f.dataOffset() + t.offset(), "tensor '" + name + "' has type " + t.type()
                        + ", which Gearbox cannot compute with (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)");
            }
            return backend.load(f, t);
        }

        Weight vector(String name, long len) throws GGUFFormatException {
            TensorInfo t = require(name);
            if (t.elementCount() != len || t.dim(0) != len) throw misshapen(t, "[" + len + "]");
            if (!t.type().computable()) {
                throw new GGUFFormatException(f.path(), f.dataOffset() + t.offset(), "tensor '" + name + "' has unsupported type " + t.type());
            }
            return backend.load(f, t);
        }

        TensorInfo require(String name) throws GGUFFormatException {
            TensorInfo t = f.tensor(name);
            if (t == null) throw new GGUFFormatException(f.path(), -1, "missing tensor '" + name + "'");
            return t;
        }

        GGUFFormatException misshapen(TensorInfo t, String expected) {
            return new GGUFFormatException(f.path(), f.dataOffset() + t.offset(), "tensor '" + t.name() + "' has shape "
                    + Arrays.toString(t.shape()) + ", expected " + expected);
        }
    }
}
