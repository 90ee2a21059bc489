package dev.gatehouse.gateway.api.responses;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.api.NamedEventStream;
import dev.gatehouse.gateway.api.openai.OpenAiApi;
import dev.gatehouse.gateway.api.openai.WholeAnswer;
import dev.gatehouse.gateway.cache.CacheControl;
import dev.gatehouse.gateway.pipeline.Call;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.UUID;

/**
 * OpenAI's Responses API, stateless: POST /v1/responses decoded into the internal request, served by
 * the pipeline (keys, limits, budgets, cache, plugins, usage logged under /v1/responses, fallbacks) on
 * any backend, and encoded as a response object or its event stream. Authentication, body reading
 * and errors are OpenAI's, shared with {@link OpenAiApi}. The client's body travels with the request,
 * so an OpenAI target with the Responses API gets it unchanged (see
 * {@link dev.gatehouse.gateway.chat.OriginalRequest}).
 */
public final class ResponsesApi implements HttpService {
    private final OpenAiApi openAi;

    public ResponsesApi(OpenAiApi openAi) {
        this.openAi = openAi;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/responses", (req, res) -> openAi.serve("/v1/responses", req, res,
                (json, call) -> respond(json, req, res, call)));
    }

    private static void respond(JsonNode body, ServerRequest req, ServerResponse res, Call call) throws InterruptedException {
        Call.Answer answer = call.chat(ResponsesRequests.decode(body),
                CacheControl.of(req.headers().values(HeaderNames.CACHE_CONTROL)));
        ResponseEncoder encoder = new ResponseEncoder("resp_" + UUID.randomUUID().toString().replace("-", ""),
                System.currentTimeMillis() / 1000, answer.request().model(), body);
        if (answer.request().stream()) {
            NamedEventStream.send(req, res, answer.stream(), encoder);
            return;
        }
        WholeAnswer.collect(req, res, answer, encoder::add);
        call.costHeader();
        WholeAnswer.send(req, res, encoder.response());
    }
}
