package dev.gatehouse.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.backend.local.LocalStore;
import dev.gatehouse.gateway.backend.local.tools.ToolFormat;
import dev.gatehouse.gateway.backend.local.tools.ToolSettings;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.engine.EngineConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatehouseConfigTest {
    private static final String SECRET = "sk-test-SECRET-0123456789";

    private static final String ISSUE_EXAMPLE = """
            providers:
              openai:   {type: openai,    base-url: https://api.openai.com/v1/, api-key: ${OPENAI_API_KEY}, timeout-ms: 5000,
                         headers: {OpenAI-Organization: org-1}, prices: {input-per-million: 0.15, output-per-million: 0.6}}
              claude:   {type: anthropic, base-url: https://api.anthropic.com, api-key: ${ANTHROPIC_API_KEY}}
              azure:    {type: azure-openai, base-url: https://NAME.openai.azure.com, api-key: ${AZURE_OPENAI_API_KEY}, api-version: 2024-10-21}
              vllm:     {type: openai-compatible, base-url: http://10.0.0.5:8000/v1}
            models:
              - name: chat
                targets:
                  - local: SmolLM2-360M-Instruct
                  - provider: openai
                    model: gpt-4o-mini
                  - provider: claude
                    model: claude-3-5-haiku-latest
                spill:
                  max-queue-wait-ms: 1500
              - name: cloud-only
                targets:
                  - provider: claude
                    model: claude-3-5-haiku-latest
            local:
              SmolLM2-360M-Instruct: {max-running: 4, max-waiting: 16}
            """;

    @Test
    void readsTheIssueExampleWithKeysFromTheEnvironment() {
        GatehouseConfig c = GatehouseConfig.parse(ISSUE_EXAMPLE, Map.of("OPENAI_API_KEY", SECRET, "AZURE_OPENAI_API_KEY", "az"));

        ProviderConfig openai = c.providers().get("openai");
        assertEquals(ProviderType.OPENAI, openai.type());
        assertEquals("https://api.openai.com/v1", openai.baseUrl(), "a trailing slash is dropped");
        assertEquals(SECRET, openai.apiKey());
        assertEquals(5000, openai.timeoutMillis());
        assertEquals(Map.of("OpenAI-Organization", "org-1"), openai.headers());
        assertEquals(new ProviderConfig.Prices(0.15, 0.6), openai.prices());
        assertEquals("2024-10-21", c.providers().get("azure").apiVersion());
        assertNull(c.providers().get("vllm").apiKey(), "a provider may need no key");
        assertEquals(ProviderConfig.DEFAULT_TIMEOUT_MILLIS, c.providers().get("vllm").timeoutMillis());

        ModelRoute chat = c.models().get(0);
        assertEquals("chat", chat.name());
        assertEquals(1500, chat.maxQueueWaitMillis());
        assertEquals(List.of(ModelRoute.Target.local("SmolLM2-360M-Instruct"),
                ModelRoute.Target.provider("openai", "gpt-4o-mini")), chat.targets(), "the unkeyed claude target is dropped");

        EngineConfig limited = c.local().get("SmolLM2-360M-Instruct").applyTo(EngineConfig.defaults());
        assertEquals(4, limited.maxRunning());
        assertEquals(16, limited.maxWaiting());
    }

    @Test
    void providerWithUnsetKeyIsReportedAndSkipped() {
        GatehouseConfig c = GatehouseConfig.parse(ISSUE_EXAMPLE, Map.of("OPENAI_API_KEY", SECRET, "AZURE_OPENAI_API_KEY", "az"));

        assertFalse(c.providers().containsKey("claude"));
        assertTrue(c.warnings().stream().anyMatch(w -> w.contains("'claude' skipped") && w.contains("ANTHROPIC_API_KEY")),
                c.warnings().toString());
        assertEquals(1, c.models().size(), "a model left with no target is not served");
        assertTrue(c.warnings().stream().anyMatch(w -> w.contains("'cloud-only' not served")), c.warnings().toString());
    }

    @Test
    void apiKeyFileIsReadAndTrimmed(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("openai"), SECRET + "\r\n"); // as an editor or `echo` leaves it
        Files.writeString(dir.resolve("empty"), "\n");
        GatehouseConfig c = GatehouseConfig.parse("""
                providers:
                  openai:  {type: openai, base-url: https://api.openai.com/v1, api-key-file: "${SECRETS}/openai"}
                  empty:   {type: openai, base-url: https://api.openai.com/v1, api-key-file: %s}
                  missing: {type: anthropic, base-url: https://api.anthropic.com, api-key-file: %s}
                """.formatted(dir.resolve("empty"), dir.resolve("absent")), Map.of("SECRETS", dir.toString()));

        assertEquals(SECRET, c.providers().get("openai").apiKey());
        assertEquals(List.of("openai"), List.copyOf(c.providers().keySet()), "an empty or unreadable file skips its provider");
        assertTrue(c.warnings().stream().anyMatch(w -> w.contains("'empty' skipped") && w.contains("is empty")),
                c.warnings().toString());
        assertTrue(c.warnings().stream().anyMatch(w -> w.contains("'missing' skipped") && w.contains("absent")),
                c.warnings().toString());
        assertFalse(c.toString().contains(SECRET));

        ConfigException both = assertThrows(ConfigException.class, () -> GatehouseConfig.parse(
                "providers: {p: {type: openai, base-url: http://x, api-key: k, api-key-file: /k}}", Map.of()));
        assertTrue(both.getMessage().contains("not both"), both.getMessage());
    }

    @Test
    void expandsVariablesInsideLongerValues() {
        GatehouseConfig c = GatehouseConfig.parse("""
                providers:
                  p: {type: openai-compatible, base-url: "http://${HOST}:${PORT}/v1", api-key: "Bearer-less ${K}",
                      headers: {X-Team: "${TEAM}"}}
                """, Map.of("HOST", "h", "PORT", "81", "K", "k$1\\", "TEAM", "blue"));

        ProviderConfig p = c.providers().get("p");
        assertEquals("http://h:81/v1", p.baseUrl());
        assertEquals("Bearer-less k$1\\", p.apiKey(), "replacement text is taken literally");
        assertEquals("blue", p.headers().get("X-Team"));
    }

    @Test
    void keyNeverAppearsInToString() {
        GatehouseConfig c = GatehouseConfig.parse(ISSUE_EXAMPLE, Map.of("OPENAI_API_KEY", SECRET, "AZURE_OPENAI_API_KEY", "az"));

        assertFalse(c.toString().contains(SECRET), c.toString());
    }

    @Test
    void idleUnloadAfterIsPerModelOverTheServeFlag() {
        GatehouseConfig c = GatehouseConfig.parse("local: {a: {idle-unload-after: 5m}, b: {idle-unload-after: 90}}", Map.of());

        assertEquals(Duration.ofMinutes(5), c.idleUnloadAfter("a", Duration.ofSeconds(30)));
        assertEquals(Duration.ofSeconds(90), c.idleUnloadAfter("b", null));
        assertEquals(Duration.ofSeconds(30), c.idleUnloadAfter("other", Duration.ofSeconds(30)));
        assertNull(c.idleUnloadAfter("other", null));
        assertMessage("local.x.idle-unload-after: '0s' is not a positive duration such as 30s, 5m or 1h",
                "local: {x: {idle-unload-after: 0s}}", Map.of());
    }

    @Test
    void mistakesNameTheKey() {
        Map<String, String> env = Map.of("K", "k");
        assertMessage("providers.p.type: unknown type 'openia'",
                "providers: {p: {type: openia, base-url: http://x, api-key: '${K}'}}", env);
        assertMessage("models[0].spill: unknown key 'max-queue-wait'",
                "models: [{name: m, targets: [{local: x}], spill: {max-queue-wait: 5}}]", env);
        assertMessage("models[0].targets[0].provider: no provider named 'nope'",
                "models: [{name: m, targets: [{provider: nope, model: x}]}]", env);
        assertMessage("providers.p.base-url reads HOST, which is not set",
                "providers: {p: {type: openai, base-url: 'http://${HOST}', api-key: '${K}'}}", env);
        assertMessage("local.x.max-running must be a whole number >= 1", "local: {x: {max-running: 0}}", env);
        assertMessage("providers.a: azure-openai needs an api-version",
                "providers: {a: {type: azure-openai, base-url: http://x, api-key: '${K}'}}", env);
    }

    @Test
    void readsPriorityWeightRetriesAndCircuitBreaker() {
        GatehouseConfig c = GatehouseConfig.parse("""
                providers:
                  a: {type: openai, base-url: http://a, retries: 0, circuit-breaker: {failures: 3, cooldown-ms: 1000}}
                  b: {type: openai, base-url: http://b, circuit-breaker: {failures: 9}}
                  c: {type: openai, base-url: http://c}
                models:
                  - name: m
                    targets:
                      - {provider: a, model: x, priority: 0, weight: 3}
                      - {provider: b, model: y, priority: 0, weight: 0.5}
                      - {local: z, priority: 1}
                      - {provider: c, model: w}
                """, Map.of());

        assertEquals(new ProviderConfig.Failures(0, 3, 1000), c.providers().get("a").failures());
        assertEquals(new ProviderConfig.Failures(2, 9, 30_000), c.providers().get("b").failures(), "unset keys keep their defaults");
        assertEquals(ProviderConfig.Failures.DEFAULT, c.providers().get("c").failures());
        assertEquals(new ProviderConfig.Failures(2, 5, 30_000), ProviderConfig.Failures.DEFAULT, "today's constants");
        List<ModelRoute.Target> targets = c.models().get(0).targets();
        assertEquals(ModelRoute.Target.provider("a", "x").withPriority(0, 3), targets.get(0));
        assertEquals(ModelRoute.Target.provider("b", "y").withPriority(0, 0.5), targets.get(1));
        assertEquals(ModelRoute.Target.local("z").withPriority(1, 1), targets.get(2));
        assertNull(targets.get(3).priority(), "no priority: its position in the list");
        assertEquals(1, targets.get(3).weight());
    }

    @Test
    void badPriorityWeightRetriesAndBreakerNameTheKey() {
        Map<String, String> env = Map.of();
        String route = "models: [{name: m, targets: [{local: x, %s}]}]";
        assertMessage("models[0].targets[0].weight must be a number > 0", route.formatted("weight: 0"), env);
        assertMessage("models[0].targets[0].weight must be a number > 0", route.formatted("weight: -2"), env);
        assertMessage("models[0].targets[0].weight must be a number > 0", route.formatted("weight: heavy"), env);
        assertMessage("models[0].targets[0].priority must be a whole number", route.formatted("priority: 1.5"), env);
        assertMessage("models[0].targets[0]: unknown key 'wieght'", route.formatted("wieght: 2"), env);
        String provider = "providers: {p: {type: openai, base-url: http://x, %s}}";
        assertMessage("providers.p.retries must be a whole number >= 0", provider.formatted("retries: -1"), env);
        assertMessage("providers.p.circuit-breaker.failures must be a whole number >= 1",
                provider.formatted("circuit-breaker: {failures: 0}"), env);
        assertMessage("providers.p.circuit-breaker.cooldown-ms must be a whole number >= 0",
                provider.formatted("circuit-breaker: {cooldown-ms: -5}"), env);
        assertMessage("providers.p.circuit-breaker: unknown key 'cooldown'",
                provider.formatted("circuit-breaker: {cooldown: 5}"), env);
        assertMessage("providers.p: unknown key 'retry'", provider.formatted("retry: 1"), env);
    }

    @Test
    void readsAProviderTargetsContextLength() {
        GatehouseConfig c = GatehouseConfig.parse("""
                providers:
                  a: {type: openai, base-url: http://a}
                models:
                  - name: m
                    targets:
                      - {local: z}
                      - {provider: a, model: small, context-length: 8192}
                      - provider: a
                        model: big
                        context-length: 128000
                      - {provider: a, model: unknown}
                """, Map.of());

        List<ModelRoute.Target> targets = c.models().get(0).targets();
        assertNull(targets.get(0).contextLength(), "a local target's context is its engine's, asked at routing");
        assertEquals(ModelRoute.Target.provider("a", "small").withContextLength(8192), targets.get(1));
        assertEquals(128_000, targets.get(2).contextLength());
        assertNull(targets.get(3).contextLength(), "none given: unknown");
    }

    @Test
    void badContextLengthNamesTheKey() {
        Map<String, String> env = Map.of();
        String route = "providers: {a: {type: openai, base-url: http://a}}\nmodels: [{name: m, targets: [{provider: a, model: x, %s}]}]";
        String expected = "models[0].targets[0].context-length must be a whole number of tokens > 0";
        assertMessage(expected, route.formatted("context-length: 0"), env);
        assertMessage(expected, route.formatted("context-length: -4096"), env);
        assertMessage(expected, route.formatted("context-length: 128k"), env);
        assertMessage(expected, route.formatted("context-length: 4096.5"), env);
        assertMessage(expected, route.formatted("context-length: 99999999999"), env);
        assertMessage("local.m.prefix-cache must be true or false", "local: {m: {prefix-cache: 'no'}}", env);
        assertMessage("models[0].targets[0]: unknown key 'context-len'", route.formatted("context-len: 4096"), env);
        assertMessage("models[0].targets[0].context-length: a local target's context is its engine's max-model-length",
                "models: [{name: m, targets: [{local: x, context-length: 4096}]}]", env);
    }

    @Test
    void localEngineLimitsOverrideTheCommandLineKeyByKey() {
        GatehouseConfig c = GatehouseConfig.parse("""
                local:
                  big:   {max-running: 16, max-waiting: 128, max-model-length: 4096, kv-cache-mb: 2048, step-token-budget: 512, prefix-cache: false}
                  small: {kv-cache-mb: 64}
                  wide:  {max-running: 300}
                """, Map.of());
        EngineConfig base = EngineConfig.defaults().withMaxModelLength(1024);

        assertEquals(new EngineConfig(16, 128, 4096, 2048L << 20, 512, base.maxPendingEvents(), false), c.engineConfig("big", base));
        assertTrue(c.engineConfig("small", base).prefixCache(), "the prefix cache is on unless turned off");
        assertEquals(base.withKvCacheBytes(64L << 20), c.engineConfig("small", base), "unset keys keep the command line's");
        assertEquals(300, c.engineConfig("wide", base).stepTokenBudget(), "the step budget rises to max-running");
        assertEquals(base, c.engineConfig("not-configured", base));
    }

    @Test
    void aLocalModelCanHaveItsOwnDeviceAndComputeType() {
        GatehouseConfig c = GatehouseConfig.parse("""
                local:
                  second-gpu: {device: "cuda:1", dtype: float32}
                  half:       {dtype: float16}
                  exact:      {weights-dtype: f32}
                """, Map.of());
        assertEquals(new LocalStore.Placement(DeviceChoice.cuda(1), DtypeChoice.FLOAT32, WeightsDtype.AUTO), c.placement("second-gpu", DeviceChoice.AUTO));
        assertEquals(new LocalStore.Placement(DeviceChoice.CUDA, DtypeChoice.FLOAT16, WeightsDtype.AUTO), c.placement("half", DeviceChoice.CUDA));
        assertEquals(new LocalStore.Placement(DeviceChoice.CPU, DtypeChoice.AUTO, WeightsDtype.AUTO), c.placement("other", DeviceChoice.CPU));
        assertEquals(new LocalStore.Placement(DeviceChoice.CPU, DtypeChoice.AUTO, WeightsDtype.F32), c.placement("exact", DeviceChoice.CPU));
        Map<String, String> env = Map.of();
        assertMessage("local.x.device: device must be auto, cpu, cuda or cuda:N, not 'gpu1'", "local: {x: {device: gpu1}}", env);
        assertMessage("local.x.weights-dtype: weights-dtype must be auto, stored or f32, not 'bf16'", "local: {x: {weights-dtype: bf16}}", env);
        assertMessage("local.x.device must be a string", "local: {x: {device: 1}}", env);
        assertMessage("local.x.dtype: dtype bfloat16 is not supported", "local: {x: {dtype: bfloat16}}", env);
    }

    @Test
    void aLocalModelCanHaveItsOwnToolParserAndRefuseTheFallback() {
        GatehouseConfig c = GatehouseConfig.parse("""
                local:
                  llama:  {tool-parser: llama3-json}
                  strict: {tool-fallback: refuse, tool-parser: auto}
                """, Map.of());
        assertEquals(new ToolSettings(ToolFormat.LLAMA3_JSON, false), c.toolSettings("llama"));
        assertEquals(new ToolSettings(null, true), c.toolSettings("strict"));
        assertEquals(ToolSettings.DEFAULTS, c.toolSettings("other"));
        Map<String, String> env = Map.of();
        assertMessage("local.x.tool-parser: unknown tool parser 'xml' (expected auto, hermes, llama3-json or mistral)",
                "local: {x: {tool-parser: xml}}", env);
        assertMessage("local.x.tool-fallback: unknown tool fallback 'no' (expected prompt or refuse)",
                "local: {x: {tool-fallback: 'no'}}", env);
    }

    @Test
    void badLocalEngineLimitsNameTheKey() {
        Map<String, String> env = Map.of();
        assertMessage("local.x.max-model-length must be a whole number >= 0", "local: {x: {max-model-length: -1}}", env);
        assertMessage("local.x.max-model-length must be a whole number >= 0", "local: {x: {max-model-length: 2k}}", env);
        assertMessage("local.x.kv-cache-mb must be a whole number >= 1", "local: {x: {kv-cache-mb: 0}}", env);
        assertMessage("local.x.kv-cache-mb must be a whole number >= 1", "local: {x: {kv-cache-mb: 1.5}}", env);
        assertMessage("local.x.step-token-budget must be a whole number >= 1", "local: {x: {step-token-budget: lots}}", env);
        assertMessage("local.x.step-token-budget (4) must be at least max-running (8)",
                "local: {x: {max-running: 8, step-token-budget: 4}}", env);
        assertMessage("local.x: unknown key 'max-model-len'", "local: {x: {max-model-len: 4096}}", env);

        GatehouseConfig c = GatehouseConfig.parse("local: {x: {step-token-budget: 4}}", env);
        ConfigException e = assertThrows(ConfigException.class,
                () -> c.engineConfig("x", EngineConfig.defaults().withMaxRunning(8)), "with --max-running 8");
        assertTrue(e.getMessage().startsWith("local.x: step-token-budget (4) must be at least max-running (8)"), e.getMessage());
    }

    @Test
    void emptyFileMeansNoProvidersAndNoRoutes() {
        GatehouseConfig c = GatehouseConfig.parse("", Map.of());

        assertTrue(c.providers().isEmpty());
        assertTrue(c.models().isEmpty());
    }

    private static void assertMessage(String expected, String yaml, Map<String, String> env) {
        ConfigException e = assertThrows(ConfigException.class, () -> GatehouseConfig.parse(yaml, env));
        assertTrue(e.getMessage().startsWith(expected), e.getMessage());
    }

    @Test
    void authAndStore() {
        GatehouseConfig c = GatehouseConfig.parse("auth: {master-key: ${MK}}\nstore: {path: /tmp/x.db}\n", Map.of("MK", "s3cret"));
        assertEquals("s3cret", c.masterKey());
        assertEquals(java.nio.file.Path.of("/tmp/x.db"), c.store().path());
        assertNull(GatehouseConfig.parse("local: {}", Map.of()).masterKey());
        assertEquals(GatehouseConfig.DEFAULT_STORE, GatehouseConfig.parse("local: {}", Map.of()).store().path());
        assertThrows(ConfigException.class, () -> GatehouseConfig.parse("auth: {master_key: x}", Map.of()));
        assertThrows(ConfigException.class, () -> GatehouseConfig.parse("store: {jdbc: x}", Map.of()));
    }
}
