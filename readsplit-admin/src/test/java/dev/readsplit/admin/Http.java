package dev.readsplit.admin;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A small HTTP client for the admin endpoints that records every response body (for the secrets check). */
final class Http {

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI base;
    final List<String> seen = new ArrayList<>();

    Http(URI base) {
        this.base = base;
    }

    HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(base.resolve(path)).GET(), null);
    }

    HttpResponse<String> post(String path, String body, String token) {
        return send(HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.ofString(body)), token);
    }

    HttpResponse<String> head(String path) {
        return send(HttpRequest.newBuilder(base.resolve(path)).method("HEAD", HttpRequest.BodyPublishers.noBody()), null);
    }

    /** A POST whose body is exactly these bytes (not necessarily UTF-8). */
    HttpResponse<String> postBytes(String path, byte[] body, String token) {
        return send(HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body)), token);
    }

    HttpResponse<String> delete(String path, String token) {
        return send(HttpRequest.newBuilder(base.resolve(path)).DELETE(), token);
    }

    private HttpResponse<String> send(HttpRequest.Builder b, String token) {
        b.timeout(Duration.ofSeconds(60));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        try {
            HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
            synchronized (seen) {
                seen.add(r.body());
                seen.add(r.headers().map().toString());
            }
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
