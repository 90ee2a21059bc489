package dev.gatehouse.serving.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.serving.constrain.CompiledGrammar;
import dev.gatehouse.serving.constrain.Constraints;
import dev.gatehouse.serving.constrain.RealTokenizers;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.Engine;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.engine.RequestHandle;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.TestModelFolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Constrained decoding's cost (docs/benchmarks.md): N concurrent streams in one engine, all under a JSON
 * Schema or all unconstrained, runs alternating so both see the same machine load; and how long compiling a
 * typical schema takes. A random model of Qwen2.5-0.5B's widths ({@code -Dbench.layers}, default 4 of its
 * 24 layers, so the mask is a larger share of a step than on the real model) with Qwen3's real vocabulary.
 * Run with {@code scripts/bench-structured}.
 */
public final class StructuredBench {
    /** 10 properties, one nested object, one enum. */
    static final String TYPICAL = """
            {"type": "object", "properties": {
              "id": {"type": "integer"},
              "name": {"type": "string"},
              "email": {"type": "string", "format": "email"},
              "age": {"type": "integer", "minimum": 0, "maximum": 150},
              "active": {"type": "boolean"},
              "role": {"type": "string", "enum": ["admin", "editor", "viewer"]},
              "score": {"type": "number"},
              "tags": {"type": "array", "items": {"type": "string"}},
              "created": {"type": "string", "format": "date-time"},
              "address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"},
                "zip": {"type": "string"}}, "required": ["street", "city", "zip"], "additionalProperties": false}},
             "required": ["id", "name", "email", "age", "active", "role", "score", "tags", "created", "address"],
             "additionalProperties": false}""";

    public static void main(String[] args) throws Exception {
        int streams = Integer.getInteger("bench.streams", 16);
        int tokens = Integer.getInteger("bench.tokens", 64);
        int rounds = Integer.getInteger("bench.rounds", 3);
        int layers = Integer.getInteger("bench.layers", 4);
        JsonNode schema = new ObjectMapper().readTree(TYPICAL);

        Path folder = Path.of(System.getProperty("bench.models", "target/bench-models")).resolve("qwen2.5-0.5b-widths-" + layers + "l-qwen3-vocab");
        if (!Files.exists(folder.resolve("config.json"))) {
            System.err.println("writing a random model to " + folder + " ...");
            TestModelFolder.qwen2().hidden(896).intermediate(4864).layers(layers).heads(14).kvHeads(2).vocab(151_936)
                    .tied(true).maxPositions(4096).eosTokenIds(151_645, 151_643).write(folder);
            RealTokenizers.write(RealTokenizers.QWEN3, folder);
        }

        long trieStart = System.nanoTime();
        Constraints warm = Constraints.forTokenizer(folder.resolve("tokenizer.json"), java.util.Set.of(151_645));
        warm.jsonObject(); // reads tokenizer.json and builds the token tries
        double trieMs = (System.nanoTime() - trieStart) / 1e6;
        double[] compileMs = new double[20];
        for (int i = 0; i < compileMs.length; i++) { // compiled afresh each time, never from the cache
            long start = System.nanoTime();
            dev.gatehouse.serving.constrain.SchemaCompiler.compile(schema);
            compileMs[i] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(compileMs);

        List<Double> free = new ArrayList<>();
        List<Double> constrained = new ArrayList<>();
        try (LocalModel model = LocalModel.load(folder, DeviceChoice.CPU)) {
            int[] prompt = model.tokenizer().encode("Write the user record of Ann Lee, an editor from Oslo, as JSON.", false);
            CompiledGrammar grammar = model.constraints().jsonSchema(schema);
            EngineConfig config = EngineConfig.defaults().withMaxRunning(streams).withMaxWaiting(4 * streams)
                    .withMaxModelLength(prompt.length + tokens + 1).withKvCacheBytes(4L << 30);
            try (Engine engine = Engine.start(model, config, new SimpleMeterRegistry())) {
                run(engine, prompt, streams, 8, null); // warm-up, both paths
                run(engine, prompt, streams, 8, grammar);
                for (int r = 0; r < rounds; r++) {
                    free.add(run(engine, prompt, streams, tokens, null));
                    constrained.add(run(engine, prompt, streams, tokens, grammar));
                }
            }
        }
        System.out.printf("%nstructured output, FP32 on CPU (%d cores), %d streams x %d tokens, temperature 1, %d rounds alternating%n%n",
                Runtime.getRuntime().availableProcessors(), streams, tokens, rounds);
        System.out.println("| round | unconstrained tokens/s | json_schema tokens/s | ratio |");
        System.out.println("|---|---|---|---|");
        for (int r = 0; r < rounds; r++) {
            System.out.printf("| %d | %.1f | %.1f | %.2f |%n", r + 1, free.get(r), constrained.get(r), constrained.get(r) / free.get(r));
        }
        System.out.printf("%ntypical schema (10 properties, a nested object, an enum): compile median %.2f ms, max %.2f ms; "
                + "token tries for the 151,669-token vocabulary (once per model) %.0f ms%n", compileMs[compileMs.length / 2],
                compileMs[compileMs.length - 1], trieMs);
    }

    /** N streams at once, each {@code tokens} long (documents do not finish that soon); aggregate tokens/s. */
    private static double run(Engine engine, int[] prompt, int n, int tokens, CompiledGrammar grammar) throws Exception {
        List<RequestHandle> handles = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            handles.add(engine.submit(prompt, SamplingParams.defaults().withSeed((long) i).withMaxTokens(tokens), grammar));
        }
        long generated = 0;
        for (RequestHandle h : handles) {
            generated += h.collect().tokens().size();
        }
        return generated / ((System.nanoTime() - start) / 1e9);
    }
}
