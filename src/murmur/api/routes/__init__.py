"""Route modules: each builds a Router over the Services it is given; each route calls one domain function."""
