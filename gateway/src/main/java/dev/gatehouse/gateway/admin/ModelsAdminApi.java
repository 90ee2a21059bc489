package dev.gatehouse.gateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalBackend;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.local.LocalStore;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.Identifiers;
import dev.gatehouse.gateway.hub.HubClient;
import dev.gatehouse.gateway.hub.ServableCheck;
import dev.gatehouse.gateway.hub.StoredModel;
import dev.gatehouse.gateway.hub.StoredModels;
import dev.gatehouse.serving.engine.Capacity;
import dev.gatehouse.serving.engine.Engine;
import dev.gatehouse.serving.engine.LocalModel;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The model store while the server runs, master key only: {@code GET /admin/models}, {@code POST /admin/models/pull}
 * (in the background; {@code GET /admin/models/pulls/{id}} for progress), {@code POST /admin/models/{name}/load}
 * and {@code /unload}, {@code DELETE /admin/models/{name}}.
 */
public final class ModelsAdminApi implements HttpService, AutoCloseable {
    private static final Set<String> PULL_FIELDS = Set.of("repo", "revision", "include", "exclude", "name");
    private static final String REPO_NAME = "[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*";

    private final ApiAuth auth;
    private final LocalModels models;
    private final LocalStore store;
    private final MeterRegistry registry;
    private final Duration grace;
    private final ModelPulls pulls;

    /** {@code store} null: the server has no model store, and every endpoint says so (503). */
    public ModelsAdminApi(ApiAuth auth, LocalModels models, LocalStore store, HubClient hub, MeterRegistry registry,
                          Duration grace) {
        this.auth = auth;
        this.models = models;
        this.store = store;
        this.registry = registry;
        this.grace = grace;
        this.pulls = store == null ? null : new ModelPulls(hub, store.root());
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", guarded(this::list))
                .post("/pull", guarded(this::pull))
                .get("/pulls/{id}", guarded(this::pullStatus))
                .post("/{name}/load", guarded(this::load))
                .post("/{name}/unload", guarded(this::unload))
                .delete("/{name}", guarded(this::delete));
    }

    /** Stops the pull running, if any (it resumes on the next pull of the same repository). */
    @Override
    public void close() {
        if (pulls != null) {
            pulls.close();
        }
    }

    private Handler guarded(Handler h) {
        return AdminHandlers.guarded(auth, (req, res) -> {
            if (store == null) {
                throw new ApiException(503, "server_error", null, null, "This server has no model store.", null);
            }
            h.handle(req, res);
        });
    }

    private void list(ServerRequest req, ServerResponse res) throws IOException {
        ObjectNode out = AdminHandlers.JSON.createObjectNode();
        out.put("object", "list");
        ArrayNode data = out.putArray("data");
        for (StoredModel m : new StoredModels(store.root()).list()) {
            ObjectNode n = data.addObject();
            n.put("name", m.name());
            n.put("architecture", m.architecture());
            n.put("parameters", m.weights().parameters() < 0 ? null : m.weights().parameters());
            n.put("dtype", m.weights().dtypes());
            n.put("size-bytes", m.sizeBytes());
            n.put("servable", m.servable());
            n.put("repo", m.repo());
            n.put("state", state(m.name()));
            n.put("error", models.failure(m.name()).orElse(null));
            placement(n, m.name());
        }
        ArrayNode running = out.putArray("pulls");
        pulls.list().forEach(p -> running.add(p.toJson()));
        AdminHandlers.send(res, out);
    }

    /**
     * Where a loaded chat model runs and in which type (null otherwise): device cpu or cuda:N, compute-dtype
     * and why; and how busy it is: sequences running and waiting, KV cache bytes in use of the total, and the
     * share of prompt tokens served from the prefix cache since it loaded.
     */
    private void placement(ObjectNode n, String name) {
        Engine engine = models.get(name).map(LocalBackend::engine).orElse(null);
        LocalModel model = engine == null ? null : engine.model();
        n.put("device", model == null ? null : model.deviceName());
        n.put("compute-dtype", model == null ? null : model.dtype().label());
        n.put("compute-dtype-why", model == null ? null : model.dtype().why());
        Capacity c = engine == null ? null : engine.capacity();
        n.put("running", c == null ? null : c.running());
        n.put("waiting", c == null ? null : c.waiting());
        n.put("kv-bytes-used", c == null ? null : c.kvBytesUsed());
        n.put("kv-bytes-total", c == null ? null : c.kvBytesTotal());
        Gauge hitRatio = engine == null ? null
                : registry.find("gatehouse.engine.prefix.cache.hit.ratio").tag("model", name).gauge();
        n.put("prefix-cache-hit-ratio", hitRatio == null ? null : hitRatio.value());
    }

    /** loaded, loading, failed (its error beside it) or not-loaded. */
    private String state(String name) {
        if (served(name)) {
            return "loaded";
        }
        if (models.loading(name)) {
            return "loading";
        }
        return models.failure(name).isPresent() ? "failed" : "not-loaded";
    }

    private boolean served(String name) {
        return models.get(name).isPresent() || models.embeddings(name).isPresent();
    }

    private void pull(ServerRequest req, ServerResponse res) {
        JsonNode n = pullBody(AdminHandlers.body(req));
        ModelPulls.Pull pull = pulls.start(n.get("repo").asText(), n.hasNonNull("revision") ? n.get("revision").asText() : "main",
                globs(n, "include"), globs(n, "exclude"), n.hasNonNull("name") ? n.get("name").asText() : null);
        res.status(Status.ACCEPTED_202);
        res.header(HeaderNames.LOCATION, "/admin/models/pulls/" + pull.id);
        AdminHandlers.send(res, pull.toJson());
    }

    /** The body of POST /admin/models/pull, checked field by field so a typo is a 400, not a surprise download. */
    static JsonNode pullBody(String body) {
        JsonNode n = AdminHandlers.jsonObject(body, PULL_FIELDS);
        if (!n.path("repo").isTextual() || !n.get("repo").asText().matches(REPO_NAME)) {
            throw ApiException.invalid("repo", "'repo' must be a Hub repository name ORG/NAME, e.g. Qwen/Qwen2.5-0.5B-Instruct.");
        }
        Identifiers.requireShort(n.get("repo").asText(), "repo");
        Identifiers.requireShort(n.path("name").textValue(), "name");
        if (n.hasNonNull("revision") && (!n.get("revision").isTextual() || n.get("revision").asText().isBlank())) {
            throw ApiException.invalid("revision", "'revision' must be a branch, tag or commit.");
        }
        Identifiers.requireShort(n.path("revision").textValue(), "revision"); // it goes into Hub URLs and the manifest
        if (n.hasNonNull("name") && (!n.get("name").isTextual() || !isFolderName(n.get("name").asText()))) {
            throw ApiException.invalid("name", "'name' must be a folder name (no slashes, no leading dot).");
        }
        globs(n, "include");
        globs(n, "exclude");
        return n;
    }

    private static List<String> globs(JsonNode n, String field) {
        List<String> out = new ArrayList<>();
        if (!n.hasNonNull(field)) {
            return out;
        }
        if (!n.get(field).isArray()) {
            throw ApiException.invalid(field, "'" + field + "' must be a list of globs, e.g. [\"*.bin\"].");
        }
        for (JsonNode g : n.get(field)) {
            if (!g.isTextual() || g.asText().isBlank()) {
                throw ApiException.invalid(field, "'" + field + "' must be a list of globs, e.g. [\"*.bin\"].");
            }
            out.add(g.asText());
        }
        return out;
    }

    private void pullStatus(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        ModelPulls.Pull pull = pulls.get(id).orElseThrow(() -> new ApiException(404, "invalid_request_error",
                "pull_not_found", "id", "No pull with id '" + id + "'.", null));
        AdminHandlers.send(res, pull.toJson());
    }

    private void load(ServerRequest req, ServerResponse res) {
        String name = storeFolder(req);
        if (served(name)) {
            throw alreadyLoaded(name);
        }
        Path folder = store.root().resolve(name);
        if (!ServableCheck.servable(folder)) {
            throw new ApiException(400, "invalid_request_error", "model_not_servable", "name",
                    ServableCheck.warning(folder).replaceFirst("^warning: ", "") + ".", null);
        }
        try {
            if (!models.load(store, name, registry)) {
                throw alreadyLoaded(name);
            }
        } catch (ApiException e) {
            throw e;
        } catch (RuntimeException e) { // the folder looked servable but is not: broken files, no memory left...
            throw new ApiException(500, "server_error", "model_load_failed", "name",
                    "The model '" + name + "' could not be loaded: " + models.failure(name).orElse(e.toString()), null);
        }
        AdminHandlers.send(res, stateOf(name));
    }

    private void unload(ServerRequest req, ServerResponse res) throws InterruptedException {
        String name = req.path().pathParameters().get("name");
        if (!models.unload(name, grace.toMillis(), registry)) {
            if (isFolderName(name) && Files.isDirectory(store.root().resolve(name))) {
                throw new ApiException(409, "invalid_request_error", "model_not_loaded", "name",
                        "The model '" + name + "' is not loaded.", null);
            }
            throw notFound(name);
        }
        AdminHandlers.send(res, stateOf(name));
    }

    private void delete(ServerRequest req, ServerResponse res) throws IOException, InterruptedException {
        String name = storeFolder(req);
        long[] freed = new long[1];
        // unload and removal under the load lock: a load starting meanwhile would read files being deleted
        if (pulls.active(name) || !models.deleteIfIdle(name, grace.toMillis(), registry,
                () -> freed[0] = new StoredModels(store.root()).remove(name))) {
            throw new ApiException(409, "invalid_request_error", "model_busy", "name",
                    "The model '" + name + "' is being pulled or loaded; delete it when that is done.", null);
        }
        ObjectNode out = AdminHandlers.JSON.createObjectNode();
        out.put("name", name);
        out.put("deleted", true);
        out.put("freed-bytes", freed[0]);
        AdminHandlers.send(res, out);
    }

    /** The {name} of the path, a folder of the store; 404 otherwise. */
    private String storeFolder(ServerRequest req) {
        String name = req.path().pathParameters().get("name");
        if (!isFolderName(name) || !Files.isDirectory(store.root().resolve(name))) {
            throw notFound(name);
        }
        return name;
    }

    private ObjectNode stateOf(String name) {
        ObjectNode out = AdminHandlers.JSON.createObjectNode();
        out.put("name", name);
        out.put("state", state(name));
        return out;
    }

    private static boolean isFolderName(String name) {
        return !name.isBlank() && !name.contains("/") && !name.contains("\\") && !name.startsWith(".");
    }

    private ApiException notFound(String name) {
        return new ApiException(404, "invalid_request_error", "model_not_found", "name",
                "No model '" + name + "' in the model store " + store.root().toAbsolutePath() + ".", null);
    }

    private static ApiException alreadyLoaded(String name) {
        return new ApiException(409, "invalid_request_error", "model_already_loaded", "name",
                "The model '" + name + "' is already loaded.", null);
    }
}
