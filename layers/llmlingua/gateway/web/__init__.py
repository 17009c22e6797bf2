"""FastAPI/Lambda plumbing shared by both functions: errors, body limit, auth, handler."""
