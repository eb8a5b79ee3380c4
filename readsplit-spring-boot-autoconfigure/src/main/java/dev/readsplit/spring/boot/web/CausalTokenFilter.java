package dev.readsplit.spring.boot.web;

import dev.readsplit.consistency.CausalToken;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.ResponseCookie;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;

/**
 * Request-scoped read-your-writes across instances: reads the causal token from a header or cookie at the start
 * of a request, opens a causal context from it for the request's thread ({@link CausalRequestContext}), and writes
 * the request's new position (after its commits) on the response as the same header and cookie, so the user's next
 * request, on any instance behind the load balancer, reads its writes. See {@code docs/spring-boot.md}.
 *
 * <p>The token is written when the response starts (first body write, flush, error or redirect) or at the end
 * of the request, whichever is first: a commit made after the body began streaming cannot be carried.
 */
public final class CausalTokenFilter extends OncePerRequestFilter {

    /**
     * Request attribute holding the request's {@code dev.readsplit.jdbc.CausalContext}, for code that hands the
     * request's work to another thread ({@code context.attach()} there).
     */
    public static final String CONTEXT_ATTRIBUTE = "dev.readsplit.causalContext";
    /** Tokens are ~37 characters; anything much longer is not one (bounded input). */
    static final int MAX_TOKEN_LENGTH = 128;
    private static final Logger log = LoggerFactory.getLogger(CausalTokenFilter.class);

    private final CausalRequestContext context;
    private final String cookieName;
    private final String headerName;
    private final Duration cookieMaxAge;
    private final boolean cookieSecure;

    public CausalTokenFilter(CausalRequestContext context, String cookieName, String headerName,
                             Duration cookieMaxAge, boolean cookieSecure) {
        this.context = context;
        this.cookieName = blankToNull(cookieName);
        this.headerName = blankToNull(headerName);
        this.cookieMaxAge = cookieMaxAge;
        this.cookieSecure = cookieSecure;
        if (this.cookieName == null && this.headerName == null) {
            throw new IllegalArgumentException("readsplit.web.causal-token: cookie-name and header-name are both "
                    + "empty; set at least one");
        }
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        try (CausalRequestContext.Scope scope = context.open(read(request))) {
            request.setAttribute(CONTEXT_ATTRIBUTE, scope.context());
            TokenResponse wrapped = new TokenResponse(response, scope);
            chain.doFilter(request, wrapped);
            wrapped.emit();
        }
    }

    /** The header's token, else the cookie's; null when absent or not a token. */
    CausalToken read(HttpServletRequest request) {
        String text = headerName == null ? null : request.getHeader(headerName);
        if ((text == null || text.isBlank()) && cookieName != null && request.getCookies() != null) {
            for (Cookie c : request.getCookies()) {
                if (cookieName.equals(c.getName())) {
                    text = c.getValue();
                }
            }
        }
        if (text == null || text.isBlank() || text.length() > MAX_TOKEN_LENGTH) {
            return null;
        }
        try {
            return CausalToken.parse(text);
        } catch (IllegalArgumentException e) {
            log.debug("ignoring a causal token that does not parse: {}", e.getMessage());
            return null;
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    /** Adds the token to the response before it commits. */
    private final class TokenResponse extends HttpServletResponseWrapper {
        private final CausalRequestContext.Scope scope;
        private boolean emitted;

        TokenResponse(HttpServletResponse response, CausalRequestContext.Scope scope) {
            super(response);
            this.scope = scope;
        }

        void emit() {
            if (emitted || isCommitted()) {
                return;
            }
            emitted = true;
            CausalToken advanced = scope.advancedToken();
            if (advanced == null) {
                return;
            }
            String token = advanced.export();
            HttpServletResponse r = (HttpServletResponse) getResponse();
            if (headerName != null) {
                r.setHeader(headerName, token);
            }
            if (cookieName != null) {
                r.addHeader("Set-Cookie", ResponseCookie.from(cookieName, token).path("/").httpOnly(true)
                        .secure(cookieSecure).sameSite("Lax").maxAge(cookieMaxAge).build().toString());
            }
        }

        @Override
        public ServletOutputStream getOutputStream() throws IOException {
            emit();
            return super.getOutputStream();
        }

        @Override
        public PrintWriter getWriter() throws IOException {
            emit();
            return super.getWriter();
        }

        @Override
        public void flushBuffer() throws IOException {
            emit();
            super.flushBuffer();
        }

        @Override
        public void sendError(int sc, String msg) throws IOException {
            emit();
            super.sendError(sc, msg);
        }

        @Override
        public void sendError(int sc) throws IOException {
            emit();
            super.sendError(sc);
        }

        @Override
        public void sendRedirect(String location) throws IOException {
            emit();
            super.sendRedirect(location);
        }
    }
}
