package dev.gatehouse.serving.constrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.Engine;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.engine.FinishReason;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.engine.RequestHandle;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.TestModelFolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random-weight models with real vocabularies (Qwen3's byte-level BPE, Llama 2's SentencePiece with byte
 * fallback), sampled at temperature 1 over many seeds under JSON Schemas: every answer is a document that
 * networknt's validator accepts, and it ends (finish_reason stop) as soon as the document is complete.
 */
class ConstrainedGenerationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SEEDS = 8;

    /** Schemas whose every string is bounded, so a random model finishes each document well within max_tokens. */
    static final List<String> SCHEMAS = List.of("""
            {"type": "object", "properties": {
              "name": {"type": "string", "minLength": 1, "maxLength": 12},
              "age": {"type": "integer", "minimum": 0, "maximum": 120},
              "score": {"type": "number", "minimum": -1, "maximum": 1},
              "email": {"type": "string", "format": "email"},
              "role": {"type": "string", "enum": ["admin", "user", "guest"]},
              "active": {"type": "boolean"},
              "nickname": {"type": ["string", "null"], "maxLength": 6},
              "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "minItems": 1, "maxItems": 3},
              "address": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 10},
                "zip": {"type": "string", "minLength": 5, "maxLength": 5}}, "required": ["city", "zip"],
                "additionalProperties": false},
              "born": {"type": "string", "format": "date"}},
             "required": ["name", "age", "score", "email", "role", "active", "nickname", "tags", "address", "born"],
             "additionalProperties": false}""", """
            {"$defs": {"node": {"type": "object", "properties": {
               "label": {"type": "string", "maxLength": 4},
               "children": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 2}},
              "required": ["label", "children"], "additionalProperties": false}},
             "type": "object", "properties": {"root": {"$ref": "#/$defs/node"}}, "required": ["root"],
             "additionalProperties": false}""", """
            {"type": "object", "properties": {
              "id": {"type": "string", "format": "uuid"},
              "at": {"type": "string", "format": "date-time"},
              "result": {"anyOf": [
                {"type": "object", "properties": {"ok": {"const": true}, "value": {"type": "integer"}},
                 "required": ["ok", "value"], "additionalProperties": false},
                {"type": "object", "properties": {"ok": {"const": false}, "error": {"type": "string", "maxLength": 8}},
                 "required": ["ok", "error"], "additionalProperties": false}]},
              "note": {"type": "string", "maxLength": 3}},
             "required": ["id", "at", "result"], "additionalProperties": false}""");

    @TempDir
    static Path dir;
    static LocalModel qwen;
    static LocalModel llama;

    @BeforeAll
    static void load() throws Exception {
        qwen = model(TestModelFolder.qwen3().vocab(151_936).eosTokenIds(151_645, 151_643), RealTokenizers.QWEN3);
        llama = model(TestModelFolder.llama().vocab(32_000).eosTokenIds(2), RealTokenizers.LLAMA2);
    }

    @AfterAll
    static void close() {
        qwen.close();
        llama.close();
    }

    private static LocalModel model(TestModelFolder builder, String family) throws Exception {
        Path folder = builder.hidden(32).intermediate(64).layers(1).heads(2).kvHeads(1).tied(true).seed(3)
                .write(dir.resolve(family));
        RealTokenizers.write(family, folder); // the real vocabulary and template over the random weights
        return LocalModel.load(folder, DeviceChoice.CPU);
    }

    @Test
    void qwen3AnswersAlwaysValidate() throws Exception {
        everyAnswerValidates(qwen);
    }

    @Test
    void llama2AnswersAlwaysValidate() throws Exception {
        everyAnswerValidates(llama);
    }

    private static void everyAnswerValidates(LocalModel model) throws Exception {
        int[] prompt = model.tokenizer().encode("Answer in JSON:", false);
        try (Engine engine = Engine.start(model, EngineConfig.defaults().withMaxRunning(SEEDS), new SimpleMeterRegistry())) {
            for (String schema : SCHEMAS) {
                CompiledGrammar grammar = model.constraints().jsonSchema(JSON.readTree(schema));
                SchemaCheck check = new SchemaCheck(schema);
                List<RequestHandle> handles = new ArrayList<>();
                for (long seed = 0; seed < SEEDS; seed++) {
                    handles.add(engine.submit(prompt, SamplingParams.defaults().withSeed(seed).withMaxTokens(1500), grammar));
                }
                for (int i = 0; i < handles.size(); i++) {
                    RequestHandle.Completion c = handles.get(i).collect();
                    assertEquals(FinishReason.STOP, c.finishReason(), "seed " + i + " ended with the document: " + c.text());
                    assertEquals(List.of(), check.errors(c.text()), "seed " + i + ": " + c.text());
                }
            }
        }
    }

    @Test
    void jsonObjectAnswersParseOrRunOutOfTokens() throws Exception {
        int[] prompt = qwen.tokenizer().encode("Answer in JSON:", false);
        CompiledGrammar grammar = qwen.constraints().jsonObject();
        try (Engine engine = Engine.start(qwen, EngineConfig.defaults().withMaxRunning(SEEDS), new SimpleMeterRegistry())) {
            List<RequestHandle> handles = new ArrayList<>();
            for (long seed = 0; seed < SEEDS; seed++) {
                handles.add(engine.submit(prompt, SamplingParams.defaults().withSeed(100 + seed).withMaxTokens(60), grammar));
            }
            int whole = 0;
            for (RequestHandle h : handles) {
                RequestHandle.Completion c = h.collect();
                assertTrue(c.text().startsWith("{") || c.text().isBlank() || c.text().trim().startsWith("{"), c.text());
                if (c.finishReason() == FinishReason.STOP) {
                    assertTrue(JSON.readTree(c.text()).isObject(), c.text());
                    whole++;
                } else {
                    assertEquals(FinishReason.LENGTH, c.finishReason());
                    assertEquals(60, c.tokens().size());
                }
            }
            System.out.println("json_object: " + whole + " of " + SEEDS + " complete within 60 tokens");
        }
    }
}
