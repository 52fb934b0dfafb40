"""Knowledge base: document categories, documents, their searchable chunks and search history."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from markettina.kernel.db.base import Base
from markettina.kernel.db.columns import (
    Audited,
    Created,
    Embedding,
    SoftDeleted,
    TenantScoped,
    Versioned,
    one_of,
    tenant_fk,
)


class DocumentCategory(TenantScoped, Audited, SoftDeleted, Base):
    """A node of the account's category tree (cycles are refused by the service)."""

    __tablename__ = "document_categories"
    __table_args__ = (
        tenant_fk(["parent_id"], "document_categories", ondelete="SET NULL (parent_id)"),
        CheckConstraint("parent_id <> id", name="not_own_parent"),
        Index("ix_document_categories_account_id_parent_id", "account_id", "parent_id"),
        Index("ix_document_categories_created_by", "created_by"),
    )

    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    icon: Mapped[str | None] = mapped_column(Text)
    color: Mapped[str | None] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class KnowledgeDocument(TenantScoped, Audited, SoftDeleted, Versioned, Base):
    __tablename__ = "knowledge_documents"
    __table_args__ = (
        # tenant_fk's conventional name would pass 63 characters and be hash-truncated
        ForeignKeyConstraint(
            ["account_id", "category_id"],
            ["document_categories.account_id", "document_categories.id"],
            ondelete="SET NULL (category_id)",
            name="fk_knowledge_documents_account_id_category_id_categories",
        ),
        one_of("source_type", ("upload", "text", "url", "generated")),
        one_of("processing_status", ("pending", "processing", "ready", "failed")),
        CheckConstraint("content_hash ~ '^[0-9a-f]{64}$'", name="content_hash_sha256"),
        CheckConstraint("file_size_bytes >= 0", name="file_size_non_negative"),
        CheckConstraint("chunks_count >= 0", name="chunks_count_non_negative"),
        # the same content once per account among live documents
        Index(
            "uq_knowledge_documents_account_id_content_hash",
            "account_id",
            "content_hash",
            unique=True,
            postgresql_where=text("deleted_at IS NULL AND content_hash IS NOT NULL"),
        ),
        Index("ix_knowledge_documents_account_id_category_id", "account_id", "category_id"),
        Index(
            "ix_knowledge_documents_account_id_processing_status_created_at",
            "account_id",
            "processing_status",
            "created_at",
        ),
        Index("ix_knowledge_documents_created_by", "created_by"),
    )

    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    source_type: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    original_filename: Mapped[str | None] = mapped_column(Text)
    content_text: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(Text)
    file_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(Text)
    processing_status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    chunks_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    vector_store: Mapped[str | None] = mapped_column(Text)
    namespace: Mapped[str | None] = mapped_column(Text)
    category_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    chunks: Mapped[list[DocumentChunk]] = relationship(
        back_populates="document", lazy="raise", overlaps="document"
    )


class DocumentChunk(TenantScoped, Created, Base):
    """A piece of a document with its embedding and full-text vector.

    The migration declares ``embedding`` as pgvector's ``vector`` where the server has it;
    ``real[]`` is the portable form.
    """

    __tablename__ = "document_chunks"
    __table_args__ = (
        tenant_fk(["document_id"], "knowledge_documents", ondelete="CASCADE"),
        UniqueConstraint("account_id", "document_id", "chunk_index"),
        CheckConstraint("chunk_index >= 0", name="chunk_index_non_negative"),
        CheckConstraint("chunk_size >= 0", name="chunk_size_non_negative"),
        Index("ix_document_chunks_search_vector", "search_vector", postgresql_using="gin"),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    chunk_index: Mapped[int] = mapped_column(Integer)
    chunk_text: Mapped[str] = mapped_column(Text)
    chunk_size: Mapped[int] = mapped_column(Integer)
    embedding_id: Mapped[str | None] = mapped_column(Text)
    embedding_model: Mapped[str | None] = mapped_column(Text)
    embedding: Mapped[list[float] | None] = mapped_column(Embedding())
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed("to_tsvector('simple'::regconfig, chunk_text)", persisted=True)
    )
    chunk_metadata: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )

    document: Mapped[KnowledgeDocument] = relationship(
        back_populates="chunks", lazy="raise", overlaps="chunks"
    )


class SearchHistory(TenantScoped, Created, Base):
    __tablename__ = "search_history"
    __table_args__ = (
        one_of("query_type", ("keyword", "semantic", "hybrid", "rag")),
        CheckConstraint("results_count >= 0", name="results_count_non_negative"),
        CheckConstraint("response_time_ms >= 0", name="response_time_non_negative"),
        Index("ix_search_history_user_id", "user_id"),
        Index("ix_search_history_account_id_created_at", "account_id", "created_at"),
    )

    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    query_text: Mapped[str] = mapped_column(Text)
    query_type: Mapped[str] = mapped_column(Text, server_default=text("'keyword'"))
    results_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    top_results: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    was_helpful: Mapped[bool | None] = mapped_column(Boolean)
    # a chunk or a document, which may since have been deleted: no foreign key
    selected_result_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    response_time_ms: Mapped[int | None] = mapped_column(Integer)
