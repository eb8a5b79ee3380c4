package dev.readsplit.spring.boot.it;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.web.SecurityFilterChain;

/** For the test applications that are not about security: everything open, no CSRF (SecuredEndpointIT is). */
@Configuration(proxyBeanMethods = false)
public class OpenSecurity {

    @Bean
    SecurityFilterChain open(HttpSecurity http) throws Exception {
        http.authorizeHttpRequests(a -> a.anyRequest().permitAll()).csrf(c -> c.disable());
        return http.build();
    }
}
