# Vault Agent for an application of tenant acme: logs in with Kubernetes auth as the role bound
# to the consumer policy (see deploy/recipes/external-secrets/secret-store.yaml for the role), and
# renders orders-db.env.ctmpl to a file the application reads. Not run here (no Kubernetes on the
# test machines); test/unit/consumer-recipes.test.ts checks it against the consumer policy.
vault {
  address = "https://vault.example.com:8200"
}

auto_auth {
  method "kubernetes" {
    mount_path = "auth/kubernetes"
    config = {
      role = "rotor-consumer-acme"
    }
  }
}

template_config {
  # KV v2 secrets have no lease, so Agent re-reads them on this interval (default 5m). Keep it
  # well under the secret's grace period.
  static_secret_render_interval = "1m"
  exit_on_retry_failure         = true
}

template {
  source               = "/etc/vault-agent/orders-db.env.ctmpl"
  destination          = "/run/secrets/orders-db.env"
  perms                = "0600"
  error_on_missing_key = true
  # Tell the application to reload its credentials when the file changes (your command here).
  exec {
    command = ["/usr/local/bin/reload-orders-app"]
    timeout = "30s"
  }
}
