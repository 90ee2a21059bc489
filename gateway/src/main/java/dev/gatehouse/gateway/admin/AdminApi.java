package dev.gatehouse.gateway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.Identifiers;
import dev.gatehouse.gateway.policy.BudgetPeriod;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageQuery;
import dev.gatehouse.gateway.usage.UsageRecorder;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The admin API, master key only: {@code POST/GET /admin/keys}, {@code DELETE /admin/keys/{id}},
 * {@code GET /admin/usage}.
 */
public final class AdminApi implements HttpService {
    private static final Set<String> FIELDS = Set.of("name", "models", "rpm", "tpm", "max-concurrent", "max-budget-usd",
            "budget-period", "expires-at");

    private final ApiAuth auth;
    private final UsageRecorder usage;

    public AdminApi(ApiAuth auth, UsageRecorder usage) {
        this.auth = auth;
        this.usage = usage;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/keys", guarded(this::create))
                .get("/keys", guarded(this::list))
                .delete("/keys/{id}", guarded(this::revoke))
                .get("/usage", guarded(this::usage));
    }

    /** Master key first (see {@link AdminHandlers#guarded}), then a key store, then the handler. */
    private Handler guarded(Handler h) {
        return AdminHandlers.guarded(auth, (req, res) -> {
            if (auth.keys() == null) {
                throw new ApiException(503, "server_error", null, null, "No key store is configured.", null);
            }
            h.handle(req, res);
        });
    }

    private void create(ServerRequest req, ServerResponse res) {
        KeyStore.Created created = auth.keys().create(spec(AdminHandlers.body(req)));
        ObjectNode out = AdminHandlers.JSON.createObjectNode();
        out.put("id", created.id());
        out.put("key", created.key());
        res.status(Status.CREATED_201);
        AdminHandlers.send(res, out);
    }

    private void list(ServerRequest req, ServerResponse res) {
        ObjectNode out = AdminHandlers.JSON.createObjectNode();
        ArrayNode data = out.putArray("data");
        for (KeyStore.Key k : auth.keys().list()) {
            ObjectNode n = data.addObject();
            n.put("id", k.id());
            n.put("name", k.spec().name());
            ArrayNode models = n.putArray("models"); // empty = every model
            k.spec().models().forEach(models::add);
            n.put("rpm", k.spec().rpm());
            n.put("tpm", k.spec().tpm());
            n.put("max-concurrent", k.spec().maxConcurrent());
            n.put("max-budget-usd", k.spec().maxBudgetUsd());
            n.put("budget-period", k.spec().budgetPeriod());
            n.put("expires-at", k.spec().expiresAt() == null ? null : k.spec().expiresAt().toString());
            n.put("created-at", k.createdAt().toString());
            if (k.spec().maxBudgetUsd() != null) {
                n.put("spend-usd", usage.budgets().spent(k)); // in the current budget period
            }
        }
        AdminHandlers.send(res, out);
    }

    private void revoke(ServerRequest req, ServerResponse res) {
        String id = Identifiers.requireShort(req.path().pathParameters().get("id"), "id");
        if (!auth.keys().revoke(id)) {
            throw new ApiException(404, "invalid_request_error", "key_not_found", "id", "No key with id '" + id + "'.", null);
        }
        ObjectNode out = AdminHandlers.JSON.createObjectNode();
        out.put("id", id);
        out.put("deleted", true);
        AdminHandlers.send(res, out);
    }

    private void usage(ServerRequest req, ServerResponse res) {
        if (usage.log() == null) {
            throw new ApiException(503, "server_error", null, null, "This server keeps no usage log.", null);
        }
        UsageQuery q;
        try {
            q = UsageQuery.parse(req.query().first("from").orElse(null), req.query().first("to").orElse(null),
                    req.query().first("group-by").orElse(null), Instant.now());
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(null, e.getMessage() + ".");
        }
        try {
            usage.log().flush(Duration.ofSeconds(5)); // a summary right after a request includes it (unless the store is stuck)
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Map<String, String> names = new HashMap<>();
        auth.keys().list().forEach(k -> names.put(k.id(), k.spec().name()));
        ObjectNode out = AdminHandlers.JSON.createObjectNode();
        out.put("from", q.from().toString());
        out.put("to", q.to().toString());
        out.put("group-by", q.groupBy().name().toLowerCase(Locale.ROOT));
        ArrayNode data = out.putArray("data");
        for (UsageLog.Summary s : usage.log().summary(q.from(), q.to(), q.groupBy())) {
            ObjectNode n = data.addObject();
            n.put(q.groupBy().name().toLowerCase(Locale.ROOT), s.group());
            if (q.groupBy() == UsageLog.GroupBy.KEY && s.group() != null) {
                n.put("name", names.get(s.group())); // null once the key is revoked
            }
            n.put("requests", s.requests());
            n.put("errors", s.errors());
            n.put("prompt-tokens", s.promptTokens());
            n.put("completion-tokens", s.completionTokens());
            n.put("cost-usd", s.costUsd());
            n.put("average-latency-ms", Math.round(s.averageLatencyMillis()));
        }
        AdminHandlers.send(res, out);
    }

    /** The body of POST /admin/keys; shared with {@code gatehouse keys create}'s validation rules. */
    static KeyStore.Spec spec(String body) {
        JsonNode n = AdminHandlers.jsonObject(body, FIELDS);
        if (!n.path("name").isTextual() || n.path("name").asText().isBlank()) {
            throw ApiException.invalid("name", "'name' must be a non-empty string.");
        }
        Identifiers.requireShort(n.path("name").asText(), "name");
        List<String> models = new ArrayList<>();
        if (n.has("models")) {
            if (!n.get("models").isArray()) {
                throw ApiException.invalid("models", "'models' must be a list of model names.");
            }
            for (JsonNode m : n.get("models")) {
                if (!m.isTextual() || m.asText().isBlank()) {
                    throw ApiException.invalid("models", "'models' must be a list of model names.");
                }
                models.add(Identifiers.requireShort(m.asText(), "models"));
            }
        }
        Instant expiresAt = null;
        if (n.hasNonNull("expires-at")) {
            try {
                expiresAt = Instant.parse(n.get("expires-at").asText());
            } catch (DateTimeParseException e) {
                throw ApiException.invalid("expires-at", "'expires-at' must be an ISO-8601 instant like 2030-01-01T00:00:00Z.");
            }
        }
        String period = null;
        if (n.hasNonNull("budget-period")) {
            try {
                period = BudgetPeriod.parse(n.get("budget-period").asText()).toString();
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid("budget-period", "'budget-period': " + e.getMessage() + ".");
            }
        }
        return new KeyStore.Spec(n.get("name").asText(), List.copyOf(models), whole(n, "rpm"), whole(n, "tpm"),
                whole(n, "max-concurrent"), n.hasNonNull("max-budget-usd") ? number(n, "max-budget-usd") : null,
                period, expiresAt);
    }

    private static Integer whole(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1) {
            throw ApiException.invalid(field, "'" + field + "' must be a whole number >= 1.");
        }
        return v.asInt();
    }

    private static double number(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (!v.isNumber() || v.asDouble() < 0) {
            throw ApiException.invalid(field, "'" + field + "' must be a number >= 0.");
        }
        return v.asDouble();
    }
}
