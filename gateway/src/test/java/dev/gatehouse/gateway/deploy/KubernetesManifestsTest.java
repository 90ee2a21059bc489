package dev.gatehouse.gateway.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.SharedConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;

/**
 * What deploy/kubernetes promises of Gatehouse itself (scripts/validate-deploy checks the manifests
 * against the Kubernetes schemas): its gatehouse.yaml is one this version accepts, sharing state
 * through Redis and keeping keys in PostgreSQL; its probes ask health paths the server has; the local
 * model's replica asks for a GPU.
 */
class KubernetesManifestsTest {
    private static final Path DIR = Path.of("..", "deploy", "kubernetes");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Map<String, String> ENV = Map.of("GATEHOUSE_MASTER_KEY", "m".repeat(32),
            "POSTGRES_PASSWORD", "pg", "REDIS_PASSWORD", "rp", "METRICS_TOKEN", "t".repeat(32));

    private static List<JsonNode> objects(String file) throws IOException {
        List<JsonNode> objects = new ArrayList<>();
        try (var parser = YAML.getFactory().createParser(Files.readString(DIR.resolve(file)))) {
            YAML.readValues(parser, JsonNode.class).forEachRemaining(objects::add);
        }
        return objects;
    }

    private static JsonNode object(String file, String kind, String name) throws IOException {
        return objects(file).stream().filter(o -> o.path("kind").asText().equals(kind)
                && o.path("metadata").path("name").asText().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in " + file));
    }

    private static JsonNode container(JsonNode deployment) {
        return deployment.path("spec").path("template").path("spec").path("containers").get(0);
    }

    @Test
    void theGatewaysConfigIsValidAndSharesStateThroughRedisWithKeysInPostgres() throws IOException {
        String yaml = object("gatehouse-config.yaml", "ConfigMap", "gatehouse-config").path("data").path("gatehouse.yaml").asText();
        GatehouseConfig config = GatehouseConfig.parse(yaml, ENV);
        assertEquals("redis://redis:6379/0", config.shared().describe());
        assertEquals(SharedConfig.OnRedisDown.LOCAL, config.shared().onRedisDown());
        assertTrue(config.store().postgres(), config.store().describe());
        assertNotNull(config.providers().get("local-gpu"));

        // every ${VAR} it reads is set from the Secret in the gateway's Deployment
        JsonNode env = container(object("gatehouse.yaml", "Deployment", "gatehouse")).path("env");
        List<String> names = new ArrayList<>();
        env.forEach(e -> names.add(e.path("name").asText()));
        for (String variable : List.of("GATEHOUSE_MASTER_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD", "METRICS_TOKEN", "OPENAI_API_KEY")) {
            assertTrue(names.contains(variable), variable + " in " + names);
        }
    }

    @Test
    void theSentinelAndClusterFormsWrittenThereAsCommentsAreValidToo() throws IOException {
        String yaml = object("gatehouse-config.yaml", "ConfigMap", "gatehouse-config").path("data").path("gatehouse.yaml").asText();
        for (String form : List.of("sentinel", "cluster")) {
            String line = yaml.lines().map(String::trim).filter(l -> l.startsWith("#   " + form + ":")).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + form + " form in the ConfigMap"));
            String swapped = yaml.replaceFirst("(?m)^(\\s*)redis-url: .*$", "$1" + Matcher.quoteReplacement(line.substring(1).trim()));
            assertTrue(GatehouseConfig.parse(swapped, ENV).shared().describe().startsWith(form), swapped);
        }
    }

    @Test
    void probesAskPathsTheServerAnswers() throws Exception {
        List<String> paths = new ArrayList<>();
        for (String[] d : new String[][]{{"gatehouse.yaml", "gatehouse"}, {"gatehouse-local-gpu.yaml", "gatehouse-local-gpu"}}) {
            JsonNode c = container(object(d[0], "Deployment", d[1]));
            assertEquals("/health/ready", c.path("readinessProbe").path("httpGet").path("path").asText(), d[1]);
            assertEquals("/health", c.path("livenessProbe").path("httpGet").path("path").asText(), d[1]);
            paths.add(c.path("readinessProbe").path("httpGet").path("path").asText());
            paths.add(c.path("livenessProbe").path("httpGet").path("path").asText());
        }
        try (LocalModels models = new LocalModels();
             GatewayServer server = GatewayServer.builder(models, GatewayServer.newRegistry()).start()) {
            HttpClient http = HttpClient.newHttpClient();
            for (String path : paths) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                        .build(), HttpResponse.BodyHandlers.ofString());
                // /health/ready says 503 "loading" until models are loaded (GatewayServerTest): a probe that waits, not a 404
                assertTrue(r.statusCode() == 200 || r.statusCode() == 503 && r.body().contains("\"status\""), path + ": " + r.body());
            }
        }
    }

    @Test
    void theLocalModelsReplicaAsksForAGpuAndTheGatewaysDoNot() throws IOException {
        JsonNode gpu = container(object("gatehouse-local-gpu.yaml", "Deployment", "gatehouse-local-gpu")).path("resources");
        assertEquals(1, gpu.path("limits").path("nvidia.com/gpu").asInt());
        assertEquals(1, gpu.path("requests").path("nvidia.com/gpu").asInt());
        JsonNode gateway = container(object("gatehouse.yaml", "Deployment", "gatehouse")).path("resources");
        assertTrue(gateway.path("limits").path("nvidia.com/gpu").isMissingNode());
        assertTrue(object("gatehouse.yaml", "Deployment", "gatehouse").path("spec").path("replicas").asInt() > 1);
    }

    @Test
    void prometheusScrapesEveryGatehousePodWithTheMetricsToken() throws IOException {
        JsonNode job = YAML.readTree(object("prometheus-scrape.yaml", "ConfigMap", "gatehouse-prometheus-scrape")
                .path("data").path("gatehouse-scrape.yaml").asText()).path("scrape_configs").get(0);
        assertEquals("/metrics", job.path("metrics_path").asText());
        assertEquals("Bearer", job.path("authorization").path("type").asText());
        assertEquals("pod", job.path("kubernetes_sd_configs").get(0).path("role").asText());
    }
}
