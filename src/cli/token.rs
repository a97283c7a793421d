//! `trm token issue | revoke | revoke-jwt`: bearer tokens, as the operator.

use super::error::CliError;
use super::open::directory_app;
use crate::config::DatabaseConfig;
use crate::service::auth;
use crate::store::identity::JwtRevocation;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Print a fresh bearer token for an existing user.
    Issue {
        /// Username, e.g. it.shelter.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        db: DatabaseConfig,
    },
    /// Revoke TRM tokens: one (--token) or every token of a user (--user). Revoked tokens are
    /// refused at once, on every instance.
    Revoke {
        /// The token to revoke (trm_...).
        #[arg(long, required_unless_present = "user", conflicts_with = "user")]
        token: Option<String>,
        /// Revoke every token of this user (username, e.g. it.shelter).
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        db: DatabaseConfig,
    },
    /// Revoke JWT access tokens of the identity provider: one (--jti) or every token of a
    /// subject issued until now (--subject). Revoked tokens are refused at once, on every
    /// instance.
    RevokeJwt {
        /// The token's `jti` claim.
        #[arg(long, required_unless_present = "subject", conflicts_with = "subject")]
        jti: Option<String>,
        /// The subject (`sub` claim) whose tokens issued until now are revoked.
        #[arg(long)]
        subject: Option<String>,
        /// Only tokens of this issuer (`iss`); tokens of any issuer when omitted.
        #[arg(long)]
        issuer: Option<String>,
        #[command(flatten)]
        db: DatabaseConfig,
    },
}

pub(super) async fn run(command: TokenCommand) -> Result<(), CliError> {
    match command {
        TokenCommand::Issue { user, db } => {
            let app = directory_app(&db).await?;
            let token = auth::issue_token(&app, &user).await?;
            println!("{token}");
        }
        TokenCommand::Revoke { token, user, db } => {
            let app = directory_app(&db).await?;
            match (token, user) {
                (Some(token), _) => {
                    if !auth::revoke_token(&app, &token).await? {
                        return Err(CliError::NoLiveToken);
                    }
                    println!("token revoked");
                }
                (None, Some(user)) => {
                    let n = auth::revoke_user_tokens(&app, &user).await?;
                    println!("{n} token(s) of {user} revoked");
                }
                (None, None) => return Err(CliError::Missing("--token or --user")),
            }
        }
        TokenCommand::RevokeJwt {
            jti,
            subject,
            issuer,
            db,
        } => {
            let app = directory_app(&db).await?;
            let revocation = match (jti, subject) {
                (Some(jti), _) => JwtRevocation::Token { jti },
                (None, Some(subject)) => JwtRevocation::Subject {
                    subject,
                    issued_before: chrono::Utc::now(),
                },
                (None, None) => return Err(CliError::Missing("--jti or --subject")),
            };
            auth::revoke_jwt(&app, issuer.as_deref(), &revocation).await?;
            match revocation {
                JwtRevocation::Token { .. } => println!("JWT revoked"),
                JwtRevocation::Subject { .. } => {
                    println!("JWTs of the subject issued until now revoked")
                }
            }
        }
    }
    Ok(())
}
